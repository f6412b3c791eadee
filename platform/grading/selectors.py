"""Reads of grades: what counts, the gradebook, analytics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grading.models import CellScore, GradeOverride, HiddenTestRelease, Submission
from learning.models import Cohort, Enrolment


def counted_submissions(cohort: Cohort, student=None) -> dict[tuple[int, str], Submission]:
    """The submission that counts for each (student, assignment): the last to arrive.

    Two submissions in the same second are ordered by arrival (their ids), so the later wins.
    """
    rows = (
        Submission.objects.filter(cohort=cohort)
        .select_related("assignment", "grade")
        .defer("notebook", "grade__feedback_html", "grade__log")
        .order_by("submitted_at", "id")
    )
    if student is not None:
        rows = rows.filter(student=student)
    counted: dict[tuple[int, str], Submission] = {}
    for submission in rows:
        counted[(submission.student_id, submission.assignment.slug)] = submission
    return counted


def _overrides(cohort: Cohort, student=None) -> dict[tuple[int, str], GradeOverride]:
    rows = GradeOverride.objects.filter(cohort=cohort)
    if student is not None:
        rows = rows.filter(student=student)
    return {(o.student_id, o.assignment_slug): o for o in rows}


@dataclass
class GradebookCell:
    submission: Submission | None
    override: GradeOverride | None

    @property
    def grade(self):
        submission = self.submission
        if submission is None or submission.status != Submission.Status.GRADED:
            return None
        return getattr(submission, "grade", None)

    @property
    def score(self) -> float | None:
        if self.override is not None:
            return self.override.score
        grade = self.grade
        return grade.score if grade else None

    @property
    def status(self) -> str:
        if self.submission is None:
            return "overridden" if self.override else ""
        return self.submission.status

    @property
    def flags(self) -> list[str]:
        grade = self.grade
        return list(grade.flags) if grade else []


def scores_by_assignment(cohort: Cohort, user) -> dict[str, tuple[str, float | None]]:
    counted = counted_submissions(cohort, user)
    overrides = _overrides(cohort, user)
    slugs = {slug for (_uid, slug) in counted} | {slug for (_uid, slug) in overrides}
    result = {}
    for slug in slugs:
        cell = GradebookCell(counted.get((user.pk, slug)), overrides.get((user.pk, slug)))
        result[slug] = (cell.status, cell.score)
    return result


@dataclass
class GradebookRow:
    student: object
    cells: list[GradebookCell] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(c.score or 0 for c in self.cells)


def gradebook(cohort: Cohort) -> tuple[list, list[GradebookRow]]:
    assignments = list(cohort.version.assignments.order_by("position"))
    counted = counted_submissions(cohort)
    overrides = _overrides(cohort)
    students = [
        e.user
        for e in cohort.enrolments.filter(role=Enrolment.Role.STUDENT)
        .select_related("user")
        .order_by("user__username")
    ]
    rows = []
    for student in students:
        row = GradebookRow(student)
        for assignment in assignments:
            key = (student.pk, assignment.slug)
            row.cells.append(GradebookCell(counted.get(key), overrides.get(key)))
        rows.append(row)
    return assignments, rows


def score_distribution(cohort: Cohort) -> dict[str, list[float]]:
    assignments, rows = gradebook(cohort)
    return {
        a.slug: [row.cells[i].score for row in rows if row.cells[i].score is not None]
        for i, a in enumerate(assignments)
    }


def most_failed_tests(cohort: Cohort, limit: int = 10) -> list[tuple[str, str, int, int]]:
    """(assignment, grade_id, failures, attempts) over counted graded submissions, worst first."""
    grade_ids = [
        s.grade.pk
        for s in counted_submissions(cohort).values()
        if s.status == Submission.Status.GRADED and hasattr(s, "grade")
    ]
    failures: Counter = Counter()
    attempts: Counter = Counter()
    for cell in CellScore.objects.filter(grade__in=grade_ids, counted=True).select_related(
        "grade__submission__assignment"
    ):
        key = (cell.grade.submission.assignment.slug, cell.cell_id)
        attempts[key] += 1
        if cell.points < cell.max_points:
            failures[key] += 1
    ranked = sorted(failures.items(), key=lambda item: (-item[1], item[0]))
    return [(slug, gid, n, attempts[(slug, gid)]) for (slug, gid), n in ranked[:limit]]


def hidden_tests_released(cohort: Cohort, slug: str) -> bool:
    return HiddenTestRelease.objects.filter(cohort=cohort, assignment_slug=slug).exists()


def submission_history(cohort: Cohort, student, slug: str):
    return (
        Submission.objects.filter(cohort=cohort, student=student, assignment__slug=slug)
        .select_related("grade")
        .defer("notebook")
        .order_by("-submitted_at", "-id")
    )


def regrade_progress(batch) -> dict[str, int]:
    statuses = Counter(batch.submissions.values_list("status", flat=True))
    # Only grades written after the request count: a row still reading "graded" from before has
    # simply not been claimed yet.
    regraded = batch.submissions.filter(
        status=Submission.Status.GRADED, grade__graded_at__gte=batch.requested_at
    ).count()
    done = regraded + statuses.get(Submission.Status.FAILED, 0)
    return {"total": batch.total, "done": done, "by_status": dict(statuses)}


def hidden_test_sources(assignment) -> list[tuple[str, str]]:
    """(grade_id, code) of each test cell in the instructor source, hidden tests included."""
    import nbformat

    nb = nbformat.reads(assignment.source_notebook, as_version=4)
    tests = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
            tests.append((meta.get("grade_id", ""), cell.source))
    return tests
