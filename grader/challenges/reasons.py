"""Why a contest entry was refused or held, in the reader's language: English and Korean ship.

The harness's result keeps a stable ``reason_code`` (docs/challenges.md) and an English
``reason`` with what it found (counts, times, the values it quoted). Pages show both in the
reader's language from here, as the notebook grader's ``grader/messages.py`` does for cells:

- ``REASONS``: every code the harness gives a refused entry (and every flag that holds one for
  review) with what it means, in English and Korean. The site stores the code (``Entry.
  reason_code``), so a code, once shipped, keeps its meaning; a new check gets a new code here.
- ``detail(reason, language)``: the harness's own sentence in ``language``. Each sentence the
  harness writes has its pattern below; what an entry produced (a traceback, a quoted value) is
  carried over as it is, and a sentence no pattern knows stays English.

No Django here: the site calls these from a template filter (``contests/templatetags``).
tests/site/contests/test_reason_catalogue.py keeps the catalogue complete.
"""

from __future__ import annotations

import re

#: Flags: scored, but not ranked until an organizer has looked (``ScoreResult.flag``).
FLAGS = ("too-fast", "faster-than-roofline", "slow-null-call")

#: code -> (English, Korean): what a refused (or flagged) entry's code means for its team.
REASONS: dict[str, tuple[str, str]] = {
    # Kernel challenges
    "bad-submission": (
        "The file must be UTF-8 Python source of at most 1 MB.",
        "파일은 1MB 이하의 UTF-8 파이썬 소스여야 합니다.",
    ),
    "load-failed": (
        "The file did not load, or does not define the entry function.",
        "파일을 불러오지 못했거나 제출 함수가 정의되어 있지 않습니다.",
    ),
    "entry-crashed": ("The entry raised an error.", "제출물이 오류를 일으켰습니다."),
    "wrong-output": (
        "The output does not match the reference within the tolerance.",
        "출력이 허용 오차 안에서 기준 구현과 일치하지 않습니다.",
    ),
    "bad-output": (
        "The output is not an array of the expected shape and type.",
        "출력이 기대한 모양과 형식의 배열이 아닙니다.",
    ),
    "timeout": ("The entry ran past the time limit.", "제출물이 시간 제한을 넘겼습니다."),
    "out-of-memory": (
        "The entry used more memory than allowed.",
        "제출물이 허용된 것보다 많은 메모리를 썼습니다.",
    ),
    "tampered-runtime": (
        "The entry broke a rule of fair timing: it replaced functions of the runtime.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 런타임의 함수를 바꿨습니다.",
    ),
    "timer-disagrees": (
        "The entry broke a rule of fair timing: its clock and the grader's disagree.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 제출물의 시계와 채점기의 시계가 "
        "맞지 않습니다.",
    ),
    "outlives-call": (
        "The entry broke a rule of fair timing: work it started went on after a call returned.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 호출이 끝난 뒤에도 제출물이 시작한 "
        "작업이 계속되었습니다.",
    ),
    "work-outside-call": (
        "The entry broke a rule of fair timing: it worked between calls.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 호출 사이에 작업했습니다.",
    ),
    "skips-repeated-inputs": (
        "The entry broke a rule of fair timing: it remembers inputs instead of computing.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 계산하는 대신 입력을 기억합니다.",
    ),
    "channel-forged": (
        "The entry broke a rule of fair timing: it wrote to the grader's channel.",
        "제출물이 공정한 시간 측정 규칙을 어겼습니다: 채점기의 통신 채널에 썼습니다.",
    ),
    # Predictions challenges
    "not-csv": (
        "The file must be a CSV: commas, one header row, the same number of fields on every row.",
        "CSV 파일이어야 합니다. 쉼표로 구분하고, 머리글 행이 하나 있고, 모든 행의 필드 수가 "
        "같아야 합니다.",
    ),
    "bad-encoding": ("Save the file as UTF-8.", "파일을 UTF-8로 저장하세요."),
    "missing-column": (
        "The header must name exactly the id column and the prediction column.",
        "머리글에는 id 열과 예측 열만 있어야 합니다.",
    ),
    "extra-column": (
        "The header must name exactly the id column and the prediction column.",
        "머리글에는 id 열과 예측 열만 있어야 합니다.",
    ),
    "duplicate-id": (
        "Each test id may have one row only.",
        "테스트 id마다 행은 하나만 있어야 합니다.",
    ),
    "unknown-id": (
        "A row names an id that is not in the test set.",
        "테스트 세트에 없는 id가 있는 행이 있습니다.",
    ),
    "missing-id": (
        "Every id of the test set needs a row.",
        "테스트 세트의 모든 id에 행이 있어야 합니다.",
    ),
    "non-numeric": (
        "Every prediction must be a finite decimal number.",
        "모든 예측은 유한한 십진수여야 합니다.",
    ),
    "nan": (
        "Every prediction must be a finite decimal number.",
        "모든 예측은 유한한 십진수여야 합니다.",
    ),
    "out-of-range": ("A probability must be between 0 and 1.", "확률은 0과 1 사이여야 합니다."),
    "wrong-label": (
        "A prediction is not one of the classes in the labels.",
        "레이블의 클래스에 없는 예측이 있습니다.",
    ),
    "too-large": ("The file is too large.", "파일이 너무 큽니다."),
    # Flags: scored, held off the board until an organizer ranks it
    "too-fast": ("too fast: held for review", "너무 빠름: 검토 대기"),
    "faster-than-roofline": (
        "faster than memory can move its data: held for review",
        "메모리가 데이터를 옮기는 속도보다 빠름: 검토 대기",
    ),
    "slow-null-call": (
        "its channel answered much slower than the reference's: held for review",
        "채널 응답이 기준 구현보다 훨씬 느림: 검토 대기",
    ),
}

#: What a code no catalogue knows (a newer harness's) means: a fair-timing rule, as before.
UNKNOWN = (
    "The entry broke a rule of fair timing.",
    "제출물이 공정한 시간 측정 규칙을 어겼습니다.",
)

_N = r"-?[\d.]+(?:e[+-]?\d+)?"

#: (English pattern, Korean template): the whole reason must match; named groups carry over.
_DETAIL_KO: list[tuple[str, str]] = [
    # verdicts.py
    (r"output shape (?P<got>\(.*?\)), expected (?P<want>\(.*?\))",
     "출력 모양이 {got}입니다. 기대한 모양은 {want}입니다"),
    (r"output dtype (?P<got>\S+), expected (?P<want>\S+)",
     "출력 형식이 {got}입니다. 기대한 형식은 {want}입니다"),
    (rf"(?P<bad>\d+) of (?P<n>\d+) elements differ, largest error (?P<err>{_N}|nan|inf) "
     rf"\(rtol (?P<rtol>{_N}), atol (?P<atol>{_N})\)",
     "원소 {n}개 중 {bad}개가 다릅니다. 가장 큰 오차는 {err}입니다 (rtol {rtol}, atol {atol})"),
    (r"(?P<bad>\d+) of (?P<n>\d+) elements differ", "원소 {n}개 중 {bad}개가 다릅니다"),
    (r"the entry replaced functions it must not: (?P<names>.+)",
     "제출물이 바꾸면 안 되는 함수를 바꿨습니다: {names}"),
    (r"(?P<n>\d+) thread\(s\) or process\(es\) started by the entry were still running after a "
     r"call returned: work the timer does not see",
     "제출물이 시작한 스레드나 프로세스 {n}개가 호출이 끝난 뒤에도 실행 중이었습니다: 타이머가 "
     "보지 못하는 작업입니다"),
    (rf"the entry used (?P<cpu>{_N}) ms of CPU between calls \((?P<wait>{_N}) ms of waiting\): "
     r"work the timer does not see",
     "제출물이 호출 사이에 CPU 시간을 {cpu} ms 썼습니다 (기다린 시간 {wait} ms): 타이머가 보지 "
     "못하는 작업입니다"),
    (rf"the entry's clock said (?P<said>{_N}) ms for a call the grader timed at (?P<wall>{_N}) ms, "
     rf"(?P<channel>{_N}) ms of which its channel's round trip",
     "제출물의 시계는 {said} ms라고 했지만 채점기가 잰 호출 시간은 {wall} ms이고, 그중 {channel} ms는 "
     "채널 왕복 시간입니다"),
    (rf"the entry's clock said (?P<said>{_N}) ms for a call the grader timed at (?P<wall>{_N}) ms",
     "제출물의 시계는 {said} ms라고 했지만 채점기가 잰 호출 시간은 {wall} ms입니다"),
    (rf"the calling thread computed (?P<used>{_N}) ms per call, the entry's clock saw "
     rf"(?P<seen>{_N}) ms \(the runner's own work: (?P<runner>{_N}) ms\)",
     "호출한 스레드는 호출마다 {used} ms를 계산했는데 제출물의 시계는 {seen} ms만 보았습니다 "
     "(러너 자체의 작업: {runner} ms)"),
    (rf"the entry's clock missed at least (?P<missed>{_N}) ms of every call that the grader's "
     rf"clock saw \(the reference's missed (?P<ref>{_N}) ms\)",
     "제출물의 시계가 채점기의 시계가 본 모든 호출에서 적어도 {missed} ms를 놓쳤습니다 "
     "(기준 구현은 {ref} ms)"),
    (r"the entry used (?P<pct>\d+%) of the CPU time on a repeated input that it uses on a new "
     r"one: it remembers inputs instead of computing",
     "제출물이 반복된 입력에서 새 입력에 쓰는 CPU 시간의 {pct}만 썼습니다: 계산하는 대신 입력을 "
     "기억합니다"),
    # kernel.py and channel.py
    (r"cannot read the entry: (?P<why>.+)", "제출물을 읽을 수 없습니다: {why}"),
    (r"the entry is over (?P<n>\d+) bytes", "제출물이 {n}바이트를 넘습니다"),
    (r"the entry is not UTF-8 text", "제출물이 UTF-8 텍스트가 아닙니다"),
    (rf"scoring ran past the challenge's (?P<s>{_N}) s", "채점이 챌린지의 제한 시간 {s}초를 넘겼습니다"),
    (r"a call ran past its time limit", "호출 하나가 시간 제한을 넘겼습니다"),
    (r"the child (?P<what>closed its channel|ended during a call) \((?P<why>[^)]*)\)(?P<tail>: .*)?",
     "제출물을 실행하는 프로세스가 {what_ko} ({why}){tail}"),
    (r"the entry (?P<what>closed its channel|ended during a call|did not start|did not start in "
     r"time): (?P<why>.+)",
     "제출물이 {what_ko}: {why}"),
    (r"MemoryError", "MemoryError (메모리 부족)"),
    (r"a reply of (?P<n>\d+) bytes is not the runner's", "{n}바이트짜리 응답은 러너의 것이 아닙니다"),
    (r"a reply that is not JSON", "JSON이 아닌 응답"),
    (r"a reply that is not an object", "객체가 아닌 응답"),
    (r"a reply without the runner's own time", "러너가 잰 시간이 없는 응답"),
    (r"a reply that does not describe an array", "배열을 설명하지 않는 응답"),
    (r"a reply pointing outside the shared memory", "공유 메모리 밖을 가리키는 응답"),
    (r"the child wrote to the channel between calls", "제출물이 호출 사이에 채널에 썼습니다"),
    (r"the output is not a numeric array of at most (?P<n>\d+) bytes (?P<what>\(.*\))",
     "출력이 {n}바이트 이하의 숫자 배열이 아닙니다 {what}"),
    # predictions_csv.py and predictions.py
    (r"the file is empty", "파일이 비어 있습니다"),
    (r"the columns are separated by (?P<sep>'.+'); use commas",
     "열이 {sep}(으)로 구분되어 있습니다. 쉼표를 쓰세요"),
    (r"the header names a column twice", "머리글에 같은 열이 두 번 있습니다"),
    (r"no column (?P<col>'.*'); the header must be (?P<header>.+)",
     "{col} 열이 없습니다. 머리글은 {header}여야 합니다"),
    (r"unexpected column (?P<col>'.*?'|\".*?\")(?P<pandas> \(an unnamed index column: with "
     r"pandas, write to_csv\(\.\.\., index=False\)\))?; the header must be (?P<header>.+) and "
     r"nothing else",
     "예상하지 못한 열 {col}{pandas_ko}. 머리글은 {header}여야 하고 다른 열은 없어야 합니다"),
    (r"line (?P<line>\d+): the prediction is (?P<value>.+); it must be finite",
     "{line}행: 예측이 {value}입니다. 유한한 수여야 합니다"),
    (r"line (?P<line>\d+): the prediction (?P<value>.+) is not a number",
     "{line}행: 예측 {value}은(는) 수가 아닙니다"),
    (r"line (?P<line>\d+): the prediction (?P<value>.+) overflows",
     "{line}행: 예측 {value}이(가) 너무 큽니다 (오버플로)"),
    (r"line (?P<line>\d+): the probability (?P<value>.+) is not in \[0, 1\]",
     "{line}행: 확률 {value}이(가) [0, 1] 안에 있지 않습니다"),
    (r"the file is larger than (?P<n>\d+) bytes", "파일이 {n}바이트보다 큽니다"),
    (r"the file has (?P<n>\d+) bytes; at most (?P<max>\d+)",
     "파일이 {n}바이트입니다. 최대 {max}바이트입니다"),
    (r"the file is UTF-16; save it as UTF-8", "파일이 UTF-16입니다. UTF-8로 저장하세요"),
    (r"the file is not UTF-8 \(byte (?P<at>\d+) cannot be read\)",
     "파일이 UTF-8이 아닙니다 ({at}번째 바이트를 읽을 수 없습니다)"),
    (r"the file holds NUL bytes \(a binary file\?\)",
     "파일에 NUL 바이트가 있습니다 (바이너리 파일인가요?)"),
    (r"line (?P<line>\d+) has (?P<n>\d+) fields; the header has (?P<h>\d+)",
     "{line}행의 필드가 {n}개입니다. 머리글은 {h}개입니다"),
    (r"more than (?P<n>\d+) rows", "행이 {n}개보다 많습니다"),
    (r"a field is longer than (?P<n>\d+) characters", "필드 하나가 {n}자보다 깁니다"),
    (r"the file needs too much memory", "파일을 읽는 데 메모리가 너무 많이 듭니다"),
    (r"the file needs more time or memory to read than an entry may use",
     "파일을 읽는 데 제출물 하나에 허용된 것보다 많은 시간이나 메모리가 듭니다"),
    (r"id (?P<id>.+) has (?P<n>\d+) rows; each id must have exactly one",
     "id {id}의 행이 {n}개입니다. id마다 행은 정확히 하나여야 합니다"),
    (r"(?P<n>\d+) rows have ids not in the test set, e\.g\. (?P<ids>.+) \(ids are compared as "
     r"text, as written in test\.csv\)",
     "행 {n}개의 id가 테스트 세트에 없습니다. 예: {ids} (id는 test.csv에 적힌 대로 텍스트로 "
     "비교합니다)"),
    (r"(?P<n>\d+) ids of the test set have no prediction, e\.g\. (?P<ids>.+)",
     "테스트 세트의 id {n}개에 예측이 없습니다. 예: {ids}"),
    (r"the prediction (?P<value>.+) is not a class; the classes are (?P<classes>.+)",
     "예측 {value}은(는) 클래스가 아닙니다. 클래스는 {classes}입니다"),
    (r"line (?P<line>\d+): (?P<error>.+)", "{line}행: {error}"),
]  # fmt: skip
_DETAIL = [(re.compile(f"(?s){pattern}"), template) for pattern, template in _DETAIL_KO]

#: Korean for the parts some templates name with a ``_ko`` suffix.
_PART_KO = {
    "what_ko": {
        "closed its channel": "채널을 닫았습니다",
        "ended during a call": "호출 중에 끝났습니다",
        "did not start": "시작하지 않았습니다",
        "did not start in time": "제시간에 시작하지 않았습니다",
    },
    "pandas_ko": {
        " (an unnamed index column: with pandas, write to_csv(..., index=False))": (
            " (이름 없는 인덱스 열입니다. pandas에서는 to_csv(..., index=False)로 쓰세요)"
        ),
    },
}


def _korean(language: str) -> bool:
    return (language or "").lower().startswith("ko")


def explain(code: str, language: str = "en") -> str:
    """What ``code`` (a reason code or a flag) means, in ``language``; '' for no code."""
    if not code:
        return ""
    english, korean = REASONS.get(code, UNKNOWN)
    return korean if _korean(language) else english


def _detail_ko(reason: str) -> str | None:
    for pattern, template in _DETAIL:
        match = pattern.fullmatch(reason)
        if match is None:
            continue
        values = match.groupdict(default="")
        for part, table in _PART_KO.items():
            source = part.removesuffix("_ko")
            values[part] = table.get(values.get(source, ""), values.get(source, ""))
        return template.format(**values)
    return None


def detail(reason: str, language: str = "en") -> str:
    """The harness's own sentence in ``language``, written as a sentence (the harness writes
    clauses: "the columns are separated by ';'; use commas"); one no pattern knows is kept as it
    is in Korean."""
    if not reason:
        return reason
    if _korean(language):
        return _detail_ko(reason.strip()) or reason
    return as_sentence(reason)


def as_sentence(text: str) -> str:
    """A capital first letter and a full stop, for the clauses the harness writes."""
    text = text.strip()
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?:)":
        text += "."
    return text


def is_translated(reason: str) -> bool:
    """Whether the harness's sentence has its Korean here (the catalogue's test asks)."""
    return _detail_ko(reason.strip()) is not None
