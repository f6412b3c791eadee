"""The grader's own words in the reader's language: English and Korean ship.

The grader knows nothing of Django, and one result is read by students and instructors in either
language, so its texts stay English in the result and are translated where they are shown:

- ``translate(text, language)`` turns a cell's message or a reason into ``language``, fragment by
  fragment (fragments are joined by "; " or new lines). Only the grader's own phrases are
  translated; what a submission produced (an exception's text) is kept as it is. The site calls
  it when it shows a cell's message.
- the feedback page's summary carries both languages; its ``<html lang>`` (set by the site when
  it serves the page) picks one (``summary_language_css``).

A phrase added to the grader gets its Korean here; tests/grader/test_messages.py checks that every
message the grader's tests produced is translated.
"""

from __future__ import annotations

import re

from . import result as R

STATUS_KO = {
    R.PASSED: "통과",
    R.FAILED: "실패",
    R.ERROR: "오류",
    R.TIMEOUT: "시간 초과",
    R.NOT_RUN: "실행 안 됨",
    R.SKIPPED_ON_SIMULATOR: "시뮬레이터에서 건너뜀",
    R.NEEDS_MANUAL: "강사 채점 필요",
}

#: Fixed texts of the feedback summary (English -> Korean).
SUMMARY_KO = {
    "Score": "점수",
    "Test": "테스트",
    "Result": "결과",
    "Points": "점수",
    "held for review": "검토 대기",
    "not counted": "점수에 포함되지 않음",
    "points are held": "점이 보류되었습니다",
    "until an instructor reviews them.": "강사가 검토할 때까지 반영되지 않습니다.",
    "Written by the grader. Your notebook's own output is shown below in framed boxes and cannot "
    "change this summary.": "채점기가 작성한 요약입니다. 노트북 자체의 출력은 아래 테두리 상자 "
    "안에 표시되며 이 요약을 바꿀 수 없습니다.",
}

_NUMBER = r"[\d.]+(?:e[+-]?\d+)?"

#: (English pattern, Korean template): a whole fragment must match; named groups are carried
#: over (a group called ``inner`` is itself translated).
_KO_PATTERNS: list[tuple[str, str]] = [
    (r"passed", "통과"),
    (rf"partial credit: (?P<p>{_NUMBER})/(?P<m>{_NUMBER})", "부분 점수: {p}/{m}"),
    (
        rf"stopped: the cell used more than (?P<s>{_NUMBER}) s of CPU time",
        "중단됨: 셀이 CPU 시간을 {s}초 넘게 썼습니다",
    ),
    (
        rf"stopped: the cell ran longer than (?P<s>{_NUMBER}) s",
        "중단됨: 셀이 {s}초 넘게 실행되었습니다",
    ),
    (
        rf"stopped: the cell waited longer than (?P<s>{_NUMBER}) s without computing",
        "중단됨: 셀이 계산 없이 {s}초 넘게 기다렸습니다",
    ),
    (
        r"it ignored the interrupt, so the kernel was stopped",
        "중단 요청을 무시해 커널을 멈췄습니다",
    ),
    (
        r"it left threads running(?: \((?P<n>\d+)\))?, so the kernel was stopped",
        "실행 중인 스레드를 남겨 커널을 멈췄습니다",
    ),
    (
        r"the notebook's time limit was reached during this cell",
        "이 셀을 실행하는 동안 노트북의 시간 제한에 도달했습니다",
    ),
    (
        r"the kernel stopped during this cell \((?P<inner>.*)\)",
        "이 셀을 실행하는 동안 커널이 멈췄습니다 ({inner})",
    ),
    (r"not run: the kernel had been stopped by then", "실행 안 됨: 그 전에 커널이 멈췄습니다"),
    (r"not run: the kernel had stopped", "실행 안 됨: 커널이 멈춘 뒤였습니다"),
    (r"not run: the submission could not be graded", "실행 안 됨: 제출물을 채점할 수 없었습니다"),
    (r"needs a grade from an instructor", "강사의 채점이 필요합니다"),
    (r"no response: the answer is as it was released", "응답 없음: 답이 배포된 그대로입니다"),
    (r"passed \((?P<inner>.*)\)", "통과 ({inner})"),
    (
        rf"partial credit: (?P<p>{_NUMBER})/(?P<m>{_NUMBER}) \((?P<inner>.*)\)",
        "부분 점수: {p}/{m} ({inner})",
    ),
    (
        rf"the test's partial credit (?P<v>.*) is outside 0\.\.(?P<m>{_NUMBER})",
        "테스트가 준 부분 점수 {v}이(가) 0..{m} 범위를 벗어났습니다",
    ),
    (
        r"the cell wrote to stderr, which nbgrader counts as a failure",
        "셀이 stderr에 출력했습니다. nbgrader는 이를 실패로 셉니다",
    ),
    (r"skipped on the simulator: (?P<inner>.*)", "시뮬레이터에서 건너뜀: {inner}"),
    (
        r"needs a GPU \(the cell did not report a reason\)",
        "GPU가 필요합니다 (셀이 이유를 알리지 않았습니다)",
    ),
    (
        r"withheld: the grading environment was modified before this test ran",
        "보류됨: 이 테스트 전에 채점 환경이 바뀌었습니다",
    ),
    (r"an instructor will review the submission", "강사가 제출물을 검토합니다"),
    (
        r"(?P<status>failed|error):? \[output not shown: this cell ran after hidden tests, whose "
        r"arguments the code could have recorded\]",
        "{status}: [출력 숨김: 이 셀은 숨은 테스트 뒤에 실행되었고, 코드가 그 테스트의 인자를 "
        "기록했을 수 있습니다]",
    ),
    (
        r"\[output not shown: this cell ran after hidden tests, whose arguments the code could "
        r"have recorded\]",
        "[출력 숨김: 이 셀은 숨은 테스트 뒤에 실행되었고, 코드가 그 테스트의 인자를 기록했을 수 "
        "있습니다]",
    ),
    (
        r"\[output not shown: this test cell contains hidden tests\]",
        "[출력 숨김: 이 테스트 셀에는 숨은 테스트가 있습니다]",
    ),
    (
        r"(?P<status>failed|error) \[output withheld until a person has reviewed the submission\]",
        "{status} [사람이 제출물을 검토할 때까지 출력이 보류됩니다]",
    ),
    (
        r"\[released: passed again in a fresh kernel without the flagged cells\]",
        "[보류 해제: 문제가 된 셀을 뺀 새 커널에서 다시 통과했습니다]",
    ),
    (r"\[held for review: (?P<rest>.*)\]", "[검토 대기: {rest}]"),
    (r"held for review \((?P<rest>.*)\)", "검토 대기 ({rest})"),
    (r"kernel ended by (?P<sig>SIG\w+) \(killed\)", "커널이 {sig}로 종료됨 (강제 종료)"),
    (
        r"kernel ended by (?P<sig>SIG\w+) \(CPU time limit reached\)",
        "커널이 {sig}로 종료됨 (CPU 시간 제한 도달)",
    ),
    (r"kernel ended by (?P<sig>SIG\w+)", "커널이 {sig}로 종료됨"),
    (r"kernel exited with status (?P<code>-?\d+)", "커널이 상태 {code}로 종료됨"),
    (
        r"its processes together used all the memory a submission may use",
        "프로세스들이 제출물 하나에 허용된 메모리를 모두 썼습니다",
    ),
    (r"stopped by the grader", "채점기가 멈췄습니다"),
]
_KO = [(re.compile(f"(?s){pattern}"), template) for pattern, template in _KO_PATTERNS]

#: Why each construct of the AST policy holds points (``policy_rules.WHY``), in Korean; a policy
#: reason reads "cell N, line L: `code` uses 'name': why [construct]".
WHY_KO = {
    "dynamic-attribute": "실행 중에 계산한 이름으로 속성에 접근합니다. 어떤 검사도 이를 확인할 수 없습니다",
    "dynamic-namespace": "네임스페이스를 딕셔너리로 읽거나 씁니다 (globals, vars, __dict__)",
    "dynamic-code": "실행 중에 만든 코드를 실행합니다 (exec/eval/compile). 어떤 검사도 이를 확인할 수 없습니다",
    "frames": "테스트의 값과 소스가 있는 스택 프레임이나 트레이스백에 접근합니다",
    "shell": "테스트를 실행하는 IPython 셸이나 커널에 접근합니다",
    "input-history": "테스트의 소스(숨은 테스트 포함)가 담긴 입력 기록을 읽습니다",
    "import-machinery": "import 장치나 builtins 모듈을 바꾸거나 우회합니다",
    "unknown-module": "설치되지 않은 모듈을 가져옵니다 (제출물이 쓴 파일일 수 있습니다)",
    "result-type": "비교나 변환으로 테스트를 통과시킬 수 있는 타입을 정의합니다",
    "dunder": "인터프리터 내부에 닿는 특수 속성을 씁니다",
    "monkeypatch": "모듈(또는 테스트가 호출하는 이름)에 값을 넣어 테스트가 실행하는 것을 바꿉니다",
    "rebind": "주어진 코드나 테스트가 의존하는 이름을 다시 바인딩합니다",
    "native-code": "인터프리터의 메모리를 고쳐 쓸 수 있는 네이티브 코드를 불러옵니다",
    "signals": "테스트를 중단하거나 바꿀 수 있는 시그널 핸들러를 설치합니다",
    "concurrency": "테스트와 동시에 코드를 실행합니다 (스레드, 프로세스, 이벤트 루프, 훅)",
    "processes": "프로세스를 시작하거나 시그널을 보냅니다",
    "magic": "커널이나 입력 기록에 닿을 수 있는 IPython 매직이나 셸 명령을 씁니다",
    "serialization": "객체를 역직렬화합니다. 이름으로 아무 함수나 호출할 수 있습니다",
    "unchecked": "너무 깊게 중첩되어 정책이 검사할 수 없습니다",
    "test-namespace": "테스트가 실행되는 동안 테스트만 설정하는 변수(숨은 테스트 포함)를 읽습니다",
}
_POLICY_HIT = re.compile(
    r"(?s)cell (?P<cell>\d+), line (?P<line>\d+): (?P<code>`.*`) uses (?P<name>.+?): "
    r"(?P<why>[^\[]+) \[(?P<construct>[a-z-]+)\]"
)
_FRAGMENT_SEPARATOR = re.compile(r"(; |\n)")


def _fragment_ko(fragment: str) -> str | None:
    hit = _POLICY_HIT.fullmatch(fragment)
    if hit is not None and hit["construct"] in WHY_KO:
        return (
            f"셀 {hit['cell']}, {hit['line']}행: {hit['code']}에서 {hit['name']} 사용: "
            f"{WHY_KO[hit['construct']]} [{hit['construct']}]"
        )
    for pattern, template in _KO:
        match = pattern.fullmatch(fragment)
        if match is None:
            continue
        values = match.groupdict(default="")
        if "inner" in values:
            values["inner"] = translate(values["inner"], "ko")
        if "status" in values:
            values["status"] = STATUS_KO.get(values["status"], values["status"])
        return template.format(**values)
    return None


def translate(text: str, language: str) -> str:
    """``text`` (a cell's message, a reason) in ``language`` ("en", "ko", "ko-kr"...): the
    grader's own phrases translated, anything else (a submission's error text) kept."""
    if not text or not language.lower().startswith("ko"):
        return text
    parts = _FRAGMENT_SEPARATOR.split(text)
    return "".join(
        part if index % 2 else (_fragment_ko(part) or part) for index, part in enumerate(parts)
    )


def is_translated(text: str) -> bool:
    """Whether every fragment of ``text`` is one of the grader's known phrases."""
    parts = _FRAGMENT_SEPARATOR.split(text)
    return all(index % 2 or not part or _fragment_ko(part) for index, part in enumerate(parts))


def both(english: str, korean: str) -> str:
    """Inline HTML carrying both languages; ``summary_language_css`` shows the page's one."""
    return f'<span class="kc-en">{english}</span><span class="kc-ko" lang="ko">{korean}</span>'


def summary_language_css() -> str:
    """English unless the page says it is Korean (the site sets ``<html lang>``)."""
    return (
        "<style>.kc-ko{display:none}html[lang|=ko] .kc-ko{display:inline}"
        "html[lang|=ko] .kc-en{display:none}</style>"
    )
