"""Grading by hand (web side): a person's score, extra credit and comment per graded cell, and the
instructor's release of those grades to the students.

nbgrader's formgrader is the model: a manual score replaces the grader's points for the cell,
extra credit comes on top (the maximum stays), a comment goes to the student. A TA may grade;
releasing is the instructor's (permissions `manual.grade` and `manual.release`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from audit import record
from grading.models import ManualGrade, ManualGradeRelease, Submission
from learning.models import Cohort


class ManualGradingError(ValueError):
    """A grade by hand that cannot be saved, with the reason in the reader's language."""


@dataclass(frozen=True)
class CellGradeInput:
    """What the grader of a cell typed: no score keeps the grader's points."""

    cell_id: str
    score: float | None = None
    extra_credit: float = 0.0
    comment: str = ""

    @property
    def empty(self) -> bool:
        return self.score is None and not self.extra_credit and not self.comment.strip()


def grade_by_hand(
    submission: Submission, entries: list[CellGradeInput], by
) -> dict[str, ManualGrade]:
    """Save the grades by hand of one submission's cells, all or none. An entry left empty
    removes an earlier grade of that cell (the grader's points stand again)."""
    grade = getattr(submission, "grade", None)
    if submission.status != Submission.Status.GRADED or grade is None:
        raise ManualGradingError(_("Only a graded submission can be graded by hand."))
    cells = {c.cell_id: c for c in grade.cells.all()}
    for entry in entries:
        cell = cells.get(entry.cell_id)
        if cell is None:
            raise ManualGradingError(
                _("This submission has no graded cell %(cell)s.") % {"cell": entry.cell_id}
            )
        if not cell.counted:
            raise ManualGradingError(
                _("Cell %(cell)s waits for a GPU grade; it cannot be graded by hand.")
                % {"cell": entry.cell_id}
            )
        if entry.score is not None and not 0 <= entry.score <= cell.max_points:
            raise ManualGradingError(
                _("The score of %(cell)s must be between 0 and %(max)g.")
                % {"cell": entry.cell_id, "max": cell.max_points}
            )
        if entry.extra_credit < 0:
            raise ManualGradingError(
                _("Extra credit of %(cell)s cannot be negative.") % {"cell": entry.cell_id}
            )
    saved: dict[str, ManualGrade] = {}
    before = {
        m.cell_id: _as_dict(m)
        for m in submission.manual_grades.filter(cell_id__in=[e.cell_id for e in entries])
    }
    with transaction.atomic():
        for entry in entries:
            if entry.empty:
                ManualGrade.objects.filter(submission=submission, cell_id=entry.cell_id).delete()
                continue
            saved[entry.cell_id], _created = ManualGrade.objects.update_or_create(
                submission=submission,
                cell_id=entry.cell_id,
                defaults={
                    "score": entry.score,
                    "extra_credit": entry.extra_credit,
                    "comment": entry.comment.strip()[:5000],
                    "graded_by": by,
                },
            )
        after = {cell_id: _as_dict(m) for cell_id, m in saved.items()}
        if before != after:
            record(
                by, "grading.manual_grade", submission, before, after, subject=submission.student
            )
    return saved


def _as_dict(grade: ManualGrade) -> dict:
    return {"score": grade.score, "extra_credit": grade.extra_credit, "comment": grade.comment}


def release_manual_grades(cohort: Cohort, assignment_slug: str, by=None) -> ManualGradeRelease:
    """Show the cohort's students their grades by hand and comments of an assignment (and every
    later one: releasing is per assignment, not per grade)."""
    if not cohort.version.assignments.filter(slug=assignment_slug).exists():
        raise ManualGradingError(
            _("This cohort has no assignment %(slug)s.") % {"slug": assignment_slug}
        )
    release, created = ManualGradeRelease.objects.get_or_create(
        cohort=cohort, assignment_slug=assignment_slug, defaults={"released_by": by}
    )
    if created:
        record(by, "grading.manual_release", cohort, None, {"assignment": assignment_slug})
    return release


def withdraw_manual_grades(cohort: Cohort, assignment_slug: str, by=None) -> None:
    """Hide the grades by hand again (a release made by mistake)."""
    deleted, _rows = ManualGradeRelease.objects.filter(
        cohort=cohort, assignment_slug=assignment_slug
    ).delete()
    if deleted:
        record(by, "grading.manual_withdrawn", cohort, {"assignment": assignment_slug}, None)
