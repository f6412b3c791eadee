"""Reads of the grading desk: who waits for a grade by hand, and one submission cell by cell."""

from __future__ import annotations

import json
from dataclasses import dataclass

from grading.models import CellScore, ManualGrade, Submission
from grading.selectors import (
    NEEDS_MANUAL,
    counted_submissions,
    effective_score,
    is_valid,
    manual_released,
)
from learning.models import Cohort

#: Longest piece of a student's cell shown on the desk; a notebook can be megabytes.
DESK_CELL_CHARS = 20_000


@dataclass
class DeskRow:
    """One student's counted submission of the assignment on the desk."""

    submission: Submission
    #: "Student 3" in blind mode, else the student's name.
    label: str
    waiting: int
    by_hand: int
    score: float | None

    @property
    def graded(self) -> bool:
        return self.waiting == 0


@dataclass
class Desk:
    rows: list[DeskRow]
    released: bool

    @property
    def graded(self) -> int:
        return sum(1 for row in self.rows if row.graded)

    @property
    def total(self) -> int:
        return len(self.rows)

    def neighbours(self, submission_id: int) -> tuple[int | None, int | None]:
        """The previous and next submission on the desk, for keyboard navigation."""
        ids = [row.submission.pk for row in self.rows]
        if submission_id not in ids:
            return None, None
        at = ids.index(submission_id)
        return (ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None)

    def next_waiting(self, after_id: int) -> int | None:
        """The next submission that still waits for a person, after `after_id` (wrapping)."""
        ids = [row.submission.pk for row in self.rows]
        start = ids.index(after_id) + 1 if after_id in ids else 0
        for row in self.rows[start:] + self.rows[:start]:
            if not row.graded and row.submission.pk != after_id:
                return row.submission.pk
        return None


def desk(cohort: Cohort, slug: str, blind: bool = False) -> Desk:
    """Every valid counted submission of the assignment, in a stable order (by student name, or
    by submission in blind mode, where names would give the order away), with what is left to
    grade by hand."""
    counted = [
        s
        for (_uid, s_slug), s in counted_submissions(cohort).items()
        if s_slug == slug and is_valid(s)
    ]
    ids = [s.pk for s in counted]
    waiting_cells = {}
    for submission_id, cell_id in CellScore.objects.filter(
        grade__submission__in=ids, status=NEEDS_MANUAL, counted=True
    ).values_list("grade__submission_id", "cell_id"):
        waiting_cells.setdefault(submission_id, set()).add(cell_id)
    scored = {}
    for submission_id, cell_id in ManualGrade.objects.filter(
        submission__in=ids, score__isnull=False
    ).values_list("submission_id", "cell_id"):
        scored.setdefault(submission_id, set()).add(cell_id)
    if blind:
        counted.sort(key=lambda s: s.pk)
    else:
        counted.sort(key=lambda s: str(s.student).lower())
    rows = []
    for number, submission in enumerate(counted, 1):
        cells = waiting_cells.get(submission.pk, set())
        label = f"#{number}" if blind else str(submission.student)
        rows.append(
            DeskRow(
                submission=submission,
                label=label,
                waiting=len(cells - scored.get(submission.pk, set())),
                by_hand=len(cells),
                score=effective_score(submission),
            )
        )
    return Desk(rows, manual_released(cohort.pk, slug))


@dataclass
class DeskCell:
    """One cell of the student's notebook as the desk shows it: graded cells carry the grader's
    result and the grade by hand, other cells only their text."""

    index: int
    cell_type: str
    source: str
    grade_id: str | None = None
    kind: str = ""  # "test" | "answer" | "task" | "" (not graded)
    auto: CellScore | None = None
    manual: ManualGrade | None = None

    @property
    def graded(self) -> bool:
        return self.auto is not None

    @property
    def html(self):
        """A markdown cell as the student sees it: sanitized, maths kept for KaTeX (the same
        renderer as the feedback page)."""
        from grading.feedback_view import render_markdown

        return render_markdown(self.source) if self.cell_type == "markdown" else ""

    @property
    def waiting(self) -> bool:
        return bool(
            self.auto
            and self.auto.status == NEEDS_MANUAL
            and self.auto.counted
            and (self.manual is None or self.manual.score is None)
        )


def _text(value) -> str:
    text = "".join(value) if isinstance(value, list) else str(value or "")
    if len(text) > DESK_CELL_CHARS:
        return text[:DESK_CELL_CHARS] + f"\n… ({len(text) - DESK_CELL_CHARS} more characters)"
    return text


def desk_cells(submission: Submission) -> list[DeskCell]:
    """The student's notebook in order, graded cells with the grader's result beside them and
    their grade by hand; a graded cell the student deleted comes at the end."""
    grade = submission.grade
    auto = {c.cell_id: c for c in grade.cells.all()}
    manual = {m.cell_id: m for m in submission.manual_grades.all()}
    kinds = _cell_kinds(grade.graded_against.source_notebook)
    try:
        cells = json.loads(bytes(submission.notebook)).get("cells", [])
    except (ValueError, RecursionError, AttributeError):
        cells = []
    rows, seen = [], set()
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        row = DeskCell(index + 1, str(cell.get("cell_type", "")), _text(cell.get("source", "")))
        if grade_id in auto and grade_id not in seen:
            seen.add(grade_id)
            row.grade_id, row.kind = grade_id, kinds.get(grade_id, "test")
            row.auto, row.manual = auto[grade_id], manual.get(grade_id)
        rows.append(row)
    for grade_id, cell in auto.items():
        if grade_id not in seen:
            rows.append(
                DeskCell(
                    0, "", "", grade_id, kinds.get(grade_id, "test"), cell, manual.get(grade_id)
                )
            )
    return rows


def _cell_kinds(source_notebook: str) -> dict[str, str]:
    """grade_id -> "task", "answer" (graded by hand) or "test", from the instructor's source."""
    try:
        cells = json.loads(source_notebook).get("cells", [])
    except ValueError:
        return {}
    kinds = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not isinstance(meta, dict) or not meta.get("grade_id"):
            continue
        if meta.get("task"):
            kinds[meta["grade_id"]] = "task"
        elif meta.get("grade"):
            by_hand = meta.get("solution") or cell.get("cell_type") != "code"
            kinds[meta["grade_id"]] = "answer" if by_hand else "test"
    return kinds


def student_manual_grades(submission: Submission) -> dict[str, ManualGrade]:
    """The grades by hand its student may read: only once the instructor released them."""
    if not manual_released(submission.cohort_id, submission.assignment.slug):
        return {}
    return {m.cell_id: m for m in submission.manual_grades.all()}
