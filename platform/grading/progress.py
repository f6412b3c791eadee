"""Progress at a glance: a cohort's students × assignments grid, one student's course, and the
tests an assignment's students fail most often. Reads only; built on `counted_submissions`, so
every page agrees with the gradebook on which submission counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grading.models import CellScore, Submission
from grading.selectors import GradebookCell, _overrides, counted_submissions, is_valid
from learning.models import Cohort, Enrolment, Extension

#: A cell's state, in the order the legend shows them; the grid's filter takes these values.
STATES = {
    "not-started": _("not started"),
    "submitted": _("submitted, being graded"),
    "failed": _("could not be graded"),
    "held": _("held for review"),
    "by-hand": _("waits for a grade by hand"),
    "late": _("late"),
    "graded": _("graded"),
    "missed": _("missed"),
}


@dataclass
class ProgressCell:
    assignment: object
    state: str
    score: float | None
    max_score: float | None
    submission: Submission | None
    due_at: datetime | None
    attempts: int = 0

    @property
    def state_label(self) -> str:
        return str(STATES.get(self.state, self.state))

    @property
    def band(self) -> str:
        """Colour band of a score: high, middle, low (the grid's shading)."""
        if self.score is None or not self.max_score:
            return ""
        ratio = self.score / self.max_score
        return "high" if ratio >= 0.8 else "middle" if ratio >= 0.5 else "low"


@dataclass
class ProgressRow:
    student: object
    cells: list[ProgressCell] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(c.score or 0 for c in self.cells)

    @property
    def states(self) -> set[str]:
        return {c.state for c in self.cells}


class _CohortFacts:
    """What the grid reads once per page: counted submissions, overrides, due dates, attempts."""

    def __init__(self, cohort: Cohort, student=None, as_student: bool = False) -> None:
        #: The student's own view: grades by hand count once released to them.
        self.as_student = as_student
        submissions = Submission.objects.filter(cohort=cohort)
        if student is not None:
            submissions = submissions.filter(student=student)
        self.counted = counted_submissions(cohort, student)
        self.overrides = _overrides(cohort, student)
        self.attempts = Counter(submissions.values_list("student_id", "assignment__slug"))
        self.schedule = {s.assignment_slug: s.due_at for s in cohort.schedule.all()}
        extensions = Extension.objects.filter(cohort=cohort)
        self.extensions = {(e.user_id, e.assignment_slug): e.due_at for e in extensions}
        self.now = timezone.now()

    def cell(self, student_id: int, assignment) -> ProgressCell:
        key = (student_id, assignment.slug)
        submission = self.counted.get(key)
        gradebook_cell = GradebookCell(submission, self.overrides.get(key))
        due_at = self.extensions.get(key, self.schedule.get(assignment.slug))
        grade = gradebook_cell.grade
        return ProgressCell(
            assignment=assignment,
            state=_state(gradebook_cell, submission, due_at, self.now),
            score=gradebook_cell.released_score if self.as_student else gradebook_cell.score,
            max_score=grade.max_score if grade else assignment.points,
            submission=submission,
            due_at=due_at,
            attempts=self.attempts.get(key, 0),
        )


def _state(cell: GradebookCell, submission: Submission | None, due_at, now) -> str:
    if submission is None:
        if cell.override is not None:
            return "graded"
        return "missed" if due_at and due_at < now else "not-started"
    if submission.status in (Submission.Status.QUEUED, Submission.Status.RUNNING):
        return "submitted"
    if submission.status == Submission.Status.FAILED or not is_valid(submission):
        return "failed"
    review = getattr(submission, "review", None)
    if review is not None and review.decision == "pending":
        return "held"
    if cell.waiting_by_hand:
        return "by-hand"
    if submission.grade.late_penalty_percent > 0 or (due_at and submission.submitted_at > due_at):
        return "late"
    return "graded"


def cohort_grid(
    cohort: Cohort, state: str = "", assignment_slug: str = "", query: str = ""
) -> tuple[list, list[ProgressRow]]:
    """Assignments (columns) and one row per student; filters keep the rows (students) that have
    a cell in `state`, the one column `assignment_slug`, and names containing `query`."""
    assignments = list(cohort.version.assignments.order_by("position"))
    if assignment_slug:
        assignments = [a for a in assignments if a.slug == assignment_slug] or assignments
    facts = _CohortFacts(cohort)
    enrolments = (
        cohort.enrolments.filter(role=Enrolment.Role.STUDENT)
        .select_related("user")
        .order_by("user__username")
    )
    rows = []
    for enrolment in enrolments:
        student = enrolment.user
        if query and query.lower() not in f"{student.username} {student}".lower():
            continue
        row = ProgressRow(student, [facts.cell(student.pk, a) for a in assignments])
        if state and state not in row.states:
            continue
        rows.append(row)
    return assignments, rows


def legend(rows: list[ProgressRow]) -> list[tuple[str, str, int]]:
    """(state, label, how many cells of `rows` are in it) for every state, in order."""
    counts = Counter(c.state for row in rows for c in row.cells)
    return [(state, str(label), counts.get(state, 0)) for state, label in STATES.items()]


def student_progress(cohort: Cohort, student, as_student: bool = False) -> list[ProgressCell]:
    """One student's course: every assignment of the cohort with its state, score and the
    tests the counted submission failed (`.failed_tests`); `as_student` for their own view."""
    assignments = list(cohort.version.assignments.order_by("position"))
    facts = _CohortFacts(cohort, student, as_student)
    cells = []
    for assignment in assignments:
        cell = facts.cell(student.pk, assignment)
        grade = cell.submission.grade if cell.submission and is_valid(cell.submission) else None
        cell.failed_tests = (
            [c.cell_id for c in grade.cells.all() if c.counted and c.points < c.max_points]
            if grade
            else []
        )
        cells.append(cell)
    return cells


@dataclass
class FailedTest:
    grade_id: str
    failures: int
    attempts: int
    #: The counted submissions that failed it, each with `.student`.
    submissions: list[Submission]

    @property
    def percent(self) -> int:
        return round(100 * self.failures / self.attempts) if self.attempts else 0


def failed_tests(cohort: Cohort, slug: str) -> list[FailedTest]:
    """The assignment's tests by how many counted submissions fail them, worst first, each with
    links to those submissions."""
    counted = [
        s for (_uid, s_slug), s in counted_submissions(cohort).items()
        if s_slug == slug and is_valid(s)
    ]  # fmt: skip
    by_grade = {s.grade.pk: s for s in counted}
    failing: dict[str, list[Submission]] = defaultdict(list)
    attempts: Counter = Counter()
    for cell in CellScore.objects.filter(grade__in=list(by_grade), counted=True).order_by("id"):
        attempts[cell.cell_id] += 1
        if cell.points < cell.max_points:
            failing[cell.cell_id].append(by_grade[cell.grade_id])
    for submissions in failing.values():
        submissions.sort(key=lambda s: s.student.username)
    ranked = sorted(attempts, key=lambda gid: (-len(failing.get(gid, [])), gid))
    return [
        FailedTest(gid, len(failing.get(gid, [])), attempts[gid], failing.get(gid, []))
        for gid in ranked
    ]
