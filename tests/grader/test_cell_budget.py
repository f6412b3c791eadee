"""The cell budget: an endless loop burns a few times what the reference solution needs, not the
whole fixed cell limit, and an honest answer slower than the reference keeps its points."""

from __future__ import annotations

import pytest

from grader import Limits, Worker
from grader.reference import cell_budget

from .builders import source_nb, submission

pytestmark = pytest.mark.slow

#: A fixed limit far above the reference's budget (1.5 s of CPU: the reference needs ~0 s).
BUDGET_LIMITS = Limits(
    cell_timeout=20.0,
    reference_factor=5.0,
    reference_floor=1.5,
    notebook_timeout=60.0,
    interrupt_grace=1.5,
    memory_bytes=1536 * 1024**2,
)

SOURCE = source_nb(
    "def double(x):\n    return 2 * x",
    ["assert double(3) == 6", "assert double(0) == 0"],
)


@pytest.fixture(scope="module")
def budget_worker():
    with Worker(BUDGET_LIMITS, "simulator") as worker:
        yield worker


def test_an_endless_loop_is_stopped_at_the_reference_budget(budget_worker):
    looping = "def double(x):\n    return 2 * x\n\nwhile True:\n    pass"
    res = budget_worker.grade(SOURCE, submission(SOURCE, looping))
    assert any("cell limit: 1.5 s of CPU from the reference run" in line for line in res.log), (
        res.log
    )
    stopped = [line for line in res.log if "timeout" in line]
    assert stopped and "more than 1.5 s of CPU" in stopped[0], res.log
    # The loop came after the definition: the tests keep their points.
    assert [c.points for c in res.cells] == [1.0, 1.0], [c.message for c in res.cells]


def test_an_honest_answer_slower_than_the_reference_keeps_its_points(budget_worker):
    """About 0.3 s of CPU where the reference needs almost none: inside the floor."""
    slow = (
        "def double(x):\n"
        "    total = 0\n"
        "    for i in range(1_500_000):\n"
        "        total += i & 1\n"
        "    return 2 * x + 0 * total"
    )
    res = budget_worker.grade(SOURCE, submission(SOURCE, slow))
    assert [c.points for c in res.cells] == [1.0, 1.0], [c.message for c in res.cells]


def test_a_declared_limit_replaces_the_reference_run():
    declared = source_nb("def double(x):\n    return 2 * x", ["assert double(3) == 6"])
    declared.metadata["kernelcamp"] = {"cell_cpu_limit": 7}

    def no_kernel():
        raise AssertionError("a declared limit needs no reference run")

    budget = cell_budget(declared, BUDGET_LIMITS, no_kernel)
    assert budget.seconds == 7.0 and "declared" in budget.origin


def test_the_budget_never_exceeds_the_fixed_limit_and_has_a_floor():
    assert BUDGET_LIMITS.cell_limit_from_reference(100.0) == 20.0
    assert BUDGET_LIMITS.cell_limit_from_reference(0.01) == 1.5
    assert BUDGET_LIMITS.cell_limit_from_reference(1.0) == 5.0
    assert not Limits(cell_timeout=4.0).reference_can_lower
