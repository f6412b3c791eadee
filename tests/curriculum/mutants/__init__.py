"""Student answers that cheat, one list per notebook: each must lose the points of the tests it
names when graded through the real grader (tests/curriculum/test_mutants.py)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    #: What the cheat is, as a reviewer would describe it.
    name: str
    #: Answer cells replaced, by grade_id; the other answer cells hold the reference solutions.
    cells: dict[str, str]
    #: Test cells (grade_ids) that must score 0 with this answer.
    loses: tuple[str, ...]
