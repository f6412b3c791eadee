"""The in-kernel cheats of tests/fixtures/attacks/cheats.py, graded in a real sandboxed kernel.

Each cheat pairs wrong answers with a mechanism that tries to make the tests pass anyway. None
may score unflagged: the score is 0, the result is flagged ``review-needed``, and a reason names
the construct (cell, line, what and why). Whatever the cheat earned is held (``held_points``),
never in ``score``. Hidden tests never reach the feedback or the JSON.

Every notebook is graded once (module-scoped), with the verifying run off so each costs one
kernel; the verifying run has tests of its own below.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from grader import pipeline
from grader import result as R

from .conftest import ATTACKS, FIXTURES, build, fixture_bytes

sys.path.insert(0, str(ATTACKS))
from cheats import CHEATS, HIDDEN_LINE, LEAKS  # noqa: E402

pytestmark = pytest.mark.slow

ALL = {**CHEATS, **LEAKS}


@pytest.fixture(scope="module")
def graded(worker, source):
    saved, pipeline.VERIFY_HELD = pipeline.VERIFY_HELD, False
    try:
        results = {
            name: worker.grade(source, fixture_bytes(f"cheat_{name}"), name=f"{name}.ipynb")
            for name in ALL
        }
    finally:
        pipeline.VERIFY_HELD = saved
    honest = worker.grade(source, fixture_bytes("correct"), name="correct.ipynb")
    assert (honest.score, honest.held_points, honest.flags) == (5, 0, [])
    return results


def test_the_suite_covers_every_class():
    assert len(ALL) >= 40
    classes = {cheat.construct for cheat in ALL.values()}
    assert {
        "shell",
        "frames",
        "input-history",
        "import-machinery",
        "dynamic-attribute",
        "dynamic-namespace",
        "dynamic-code",
        "result-type",
        "monkeypatch",
        "rebind",
        "native-code",
        "signals",
        "concurrency",
    } <= classes


@pytest.mark.parametrize("name", list(ALL))
def test_cheat_earns_nothing_unflagged(graded, name):
    r = graded[name]
    construct = ALL[name].construct
    assert r.score == 0, [(c.grade_id, c.status, c.points, c.held) for c in r.cells]
    assert R.REVIEW_NEEDED in r.flags
    reason = next((x for x in r.reasons if x.endswith(f"[{construct}]")), None)
    assert reason is not None, r.reasons
    assert reason.startswith("cell ") and ", line " in reason  # where, for a person
    # Points a cheat earned are held for a person, never silently dropped or awarded.
    assert r.held_points == sum(c.points for c in r.cells if c.held)
    if not {R.TAMPERED_RUNTIME} & set(r.flags):
        assert any(c.held for c in r.cells if c.counted)


@pytest.mark.parametrize("name", list(LEAKS))
def test_hidden_tests_do_not_leak(graded, name):
    r = graded[name]
    assert HIDDEN_LINE not in r.feedback_html
    assert HIDDEN_LINE not in r.to_json()
    assert "square(-2)" not in r.to_json()
    assert HIDDEN_LINE[::-1] not in r.to_json()  # an encoded copy, printed after a hit


def test_a_working_cheat_has_its_points_held(graded):
    # Reading the expected value from the input history works in the kernel: the points exist,
    # but only as held points.
    r = graded["expected_from_input_history"]
    assert r.cell("test_square").held and r.cell("test_square").points == 2
    assert r.held_points >= 2 and r.score == 0


def test_honest_constructs_are_not_held(worker, source):
    # Timing magics, literal getattr, a plain class, a local helper import: no hit, full marks.
    square = (
        "import math\n\nclass Squarer:\n    def __init__(self, power=2):\n"
        "        self.power = power\n\n    def apply(self, x):\n        return x ** self.power\n\n"
        "def square(x):\n    f = getattr(Squarer(), 'apply')\n    return f(x)"
    )
    scratch = "%timeit -n 1 -r 1 square(3)\nprint(sum(range(4)), math.pi)"
    nb = build.submission({**build.CORRECT, "square": square}, extra=[(3, scratch)])
    r = worker.grade(source, build.nbformat.writes(nb), name="honest.ipynb")
    assert (r.score, r.held_points, r.flags) == (5, 0, []), r.reasons


def test_allow_list_in_the_source_permits_a_construct(worker, source):
    square = "def square(x):\n    name = 'mul'\n    return getattr(x, '__' + name + '__')(x)"
    nb = build.submission({**build.CORRECT, "square": square})
    held = worker.grade(source, build.nbformat.writes(nb), name="dyn.ipynb")
    assert held.score == 0 and held.held_points == 5
    assert any("[dynamic-attribute]" in x for x in held.reasons)
    allowing = copy.deepcopy(source)
    allowing.metadata["kernelcamp"] = {"allow": ["dynamic-attribute"]}
    r = worker.grade(allowing, build.nbformat.writes(nb), name="dyn.ipynb")
    assert (r.score, r.held_points, r.flags) == (5, 0, []), r.reasons


def test_verifying_run_releases_points_held_by_a_scratch_cell(worker, source):
    # A student who looked at the input history while debugging: the scratch cell holds the
    # points, the fresh kernel without it passes, the points are released (and still noted).
    nb = build.submission(build.CORRECT, extra=[(3, "print(len(In))")])
    r = worker.grade(source, build.nbformat.writes(nb), name="debug.ipynb")
    assert (r.score, r.held_points) == (5, 0)
    assert R.REVIEW_NEEDED in r.flags
    assert any("[input-history]" in x for x in r.reasons)
    assert any(x.startswith("verified in a fresh kernel") for x in r.reasons)


def test_verifying_run_keeps_a_working_cheat_held(worker, source):
    r = worker.grade(source, fixture_bytes("cheat_kernel_do_execute_replaced"), name="c.ipynb")
    assert r.score == 0 and r.held_points > 0
    assert not any(x.startswith("verified") for x in r.reasons)


def test_cli_reports_held_points_in_json():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "--source",
            str(FIXTURES / "grader-source.ipynb"),
            "--submission",
            str(ATTACKS / "cheat_expected_from_caller_frame.ipynb"),
            "--json",
            "--no-feedback",
            "--device",
            "simulator",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    assert data["score"] == 0 and data["held_points"] > 0
    assert "review-needed" in data["flags"]
    assert any("[frames]" in x for x in data["reasons"])
    assert any(c["held"] for c in data["cells"])
