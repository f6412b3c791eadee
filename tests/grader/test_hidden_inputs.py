"""The arguments a hidden test passes never reach the feedback: a correct answer that records
them, shown by later cells (printed, as a cell's result, in an exception), keeps its points but
not the values. Needs no construct the policy holds, so it is not a 'cheat' of the policy suite."""

from __future__ import annotations

import json

import pytest

from grader import result as R

from .conftest import fixture_bytes

pytestmark = pytest.mark.slow

MARK = "SEEN[-2]"  # cheats.HIDDEN_INPUT_MARK: what square(-2), the hidden test's call, recorded


@pytest.fixture(scope="module")
def leaked(worker, source):
    name = "cheat_leak_hidden_inputs_printed_later"
    return worker.grade(source, fixture_bytes(name), name=f"{name}.ipynb")


def test_recorded_hidden_inputs_are_not_shown_by_later_cells(leaked):
    assert MARK not in leaked.feedback_html
    assert MARK not in leaked.to_json()
    assert "-2" not in json.dumps([c.message for c in leaked.cells])


def test_the_score_is_untouched_and_the_later_cells_say_why(leaked):
    # square and add are correct; the speed test is skipped on the simulator.
    assert (leaked.score, leaked.held_points) == (5, 0), [
        (c.grade_id, c.status, c.points) for c in leaked.cells
    ]
    assert R.REVIEW_NEEDED not in leaked.flags
    assert "ran after hidden tests" in leaked.feedback_html


def test_outputs_before_the_first_hidden_test_are_shown(worker, source):
    import build

    nb = build.submission(build.CORRECT, extra=[(3, "print('before-any-hidden-test')")])
    res = worker.grade(source, build.nbformat.writes(nb), name="early.ipynb")
    assert "before-any-hidden-test" in res.feedback_html and res.score == 5
