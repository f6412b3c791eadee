"""The grader's own words in Korean: cell messages and reasons through grader.messages.translate,
the feedback summary in both languages (the page's lang picks one)."""

from __future__ import annotations

import pytest

from grader import messages
from grader import result as R
from grader.feedback import summary_html
from grader.messages import is_translated, translate

from .conftest import fixture_bytes


def test_the_graders_phrases_are_translated_and_the_submissions_text_is_kept():
    message = (
        "stopped: the cell used more than 10 s of CPU time; it ignored the interrupt, so the "
        "kernel was stopped"
    )
    korean = translate(message, "ko")
    assert (
        korean == "중단됨: 셀이 CPU 시간을 10초 넘게 썼습니다; 중단 요청을 무시해 커널을 멈췄습니다"
    )
    assert translate(message, "en") == message
    assert translate("partial credit: 1.5/2", "ko-kr") == "부분 점수: 1.5/2"
    nested = "the kernel stopped during this cell (kernel ended by SIGKILL (killed))"
    assert (
        translate(nested, "ko")
        == "이 셀을 실행하는 동안 커널이 멈췄습니다 (커널이 SIGKILL로 종료됨 (강제 종료))"
    )
    student = "AssertionError: expected 4, got 3"
    assert translate(student, "ko") == student and not is_translated(student)


def test_the_summary_carries_both_languages():
    cells = [
        R.CellResult("test_square", 2.0, 2.0, R.PASSED, "passed"),
        R.CellResult("test_add", 0.0, 3.0, R.TIMEOUT, "stopped", held=True),
    ]
    page = summary_html(cells, 2.0, 5.0, 3.0)
    for english, korean in (("Score: 2 / 5", "점수: 2 / 5"), ("timeout", "시간 초과")):
        assert english in page and korean in page
    assert "html[lang|=ko] .kc-en{display:none}" in page


@pytest.mark.slow
@pytest.mark.parametrize("fixture", ["infinite_loop", "cuda_infinite_loop", "correct"])
def test_every_message_of_a_real_run_is_translated(worker, source, fixture):
    res = worker.grade(source, fixture_bytes(fixture), name=f"{fixture}.ipynb")
    for cell in res.cells:
        if cell.status in (R.FAILED, R.ERROR) and not cell.message.startswith("stopped"):
            continue  # the submission's own error text
        assert is_translated(cell.message), (cell.grade_id, cell.message)
        assert translate(cell.message, "ko") != cell.message


def test_every_policy_reason_reads_in_korean():
    from grader.policy_rules import WHY

    assert set(WHY) == set(messages.WHY_KO)  # a construct added to the policy gets its Korean
    for construct, why in WHY.items():
        reason = f"cell 3, line 2: `x = f(y)` uses 'f': {why} [{construct}]"
        korean = messages.translate(reason, "ko")
        assert korean.startswith("셀 3, 2행: `x = f(y)`에서 'f' 사용: "), korean
        assert korean.endswith(f"{messages.WHY_KO[construct]} [{construct}]"), korean
        assert messages.translate(reason, "en") == reason
