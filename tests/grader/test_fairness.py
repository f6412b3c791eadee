"""Fair to honest work: printing a lot, a busy machine and a copy-pasted cell cost no points."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import pytest

from grader import Worker
from grader import result as R

from .builders import source_nb, submission, with_cells
from .conftest import TEST_LIMITS

pytestmark = pytest.mark.slow

SOURCE = source_nb(
    "def double(x):\n    return 2 * x",
    ["assert double(3) == 6", "assert 2 + 2 == 4"],
)


def test_a_function_that_prints_200_mb_keeps_its_points(worker):
    """nbgrader gives full marks; so does the grader: output past the cap is dropped, the cell
    goes on, and the later independent test keeps its point too."""
    answer = (
        "_printed = []\n"
        "def double(x):\n"
        "    if not _printed:\n"
        "        line = 'y' * 1023\n"
        "        for _ in range(200 * 1024):\n"
        "            print(line)\n"
        "        _printed.append(1)\n"
        "    return 2 * x"
    )
    res = worker.grade(SOURCE, submission(SOURCE, answer))
    assert [c.points for c in res.cells] == [1.0, 1.0], [c.message for c in res.cells]
    assert R.OUTPUT_TRUNCATED in res.flags and R.KERNEL_KILLED not in res.flags
    assert "output truncated by the grader" in res.feedback_html


def _loop_size_for(cpu_seconds: float) -> int:
    """Iterations of the heavy cell's loop that take about ``cpu_seconds`` of CPU here."""
    n = 200_000
    while True:
        start = time.process_time()
        total = 0
        for i in range(n):
            total += i * i
        used = time.process_time() - start
        if used > 0.2:
            return int(n * cpu_seconds / used)
        n *= 2


def test_a_heavy_cell_gets_the_same_verdict_beside_four_cpu_hogs():
    """About 2 s of CPU against a 3.5 s limit. Beside four busy processes its wall time is
    several times that (a wall-clock limit would time it out); the verdict must not change,
    because the limit counts the kernel's CPU time."""
    n = _loop_size_for(2.0)
    heavy = (
        "def heavy(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n"
        "    return total"
    )
    source = source_nb(heavy, [f"assert heavy({n}) > 0"])
    data = submission(source, heavy)
    with Worker(replace(TEST_LIMITS, cell_timeout=3.5), "simulator", warm=False) as worker:
        idle = worker.grade(source, data)
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(4)]
        try:
            busy = worker.grade(source, data)
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    print("idle:", [line for line in idle.log if line.startswith("cell 3")])
    print("busy:", [line for line in busy.log if line.startswith("cell 3")])
    assert [c.status for c in idle.cells] == [c.status for c in busy.cells] == [R.PASSED]
    assert idle.score == busy.score == 1.0


def test_a_copy_pasted_answer_cell_is_graded_with_a_note(worker):
    def duplicate_answer(raw):
        cells = raw["cells"]
        index = next(i for i, c in enumerate(cells) if c["metadata"]["nbgrader"].get("solution"))
        copy = dict(cells[index], id="copy-of-answer")
        cells.insert(index + 1, copy)

    data = with_cells(submission(SOURCE, "def double(x):\n    return 2 * x"), duplicate_answer)
    res = worker.grade(SOURCE, data)
    assert R.INVALID_SUBMISSION not in res.flags, res.reasons
    assert res.score == 2.0
    assert R.DUPLICATE_CELL in res.flags
    assert any("the first one counts" in reason for reason in res.reasons)
