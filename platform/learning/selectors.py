"""Reads for pages: what a person sees of courses and cohorts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from learning.models import Assignment, AssignmentSchedule, Cohort, Enrolment, Extension


@dataclass
class AssignmentRow:
    assignment: Assignment
    release_at: datetime | None
    due_at: datetime | None
    extended: bool
    status: str
    score: float | None

    @property
    def released(self) -> bool:
        return self.release_at is None or self.release_at <= timezone.now()


def student_cohorts(user) -> QuerySet[Cohort]:
    return (
        Cohort.objects.filter(enrolments__user=user)
        .select_related("course", "version")
        .order_by("-starts_on")
    )


def schedule_for(cohort: Cohort) -> dict[str, AssignmentSchedule]:
    return {s.assignment_slug: s for s in cohort.schedule.all()}


def is_released(cohort: Cohort, slug: str, now: datetime | None = None) -> bool:
    entry = cohort.schedule.filter(assignment_slug=slug).first()
    return entry is None or entry.release_at <= (now or timezone.now())


def due_at_for(cohort: Cohort, user, slug: str) -> datetime | None:
    """The due time that applies to this student: an extension wins over the cohort schedule."""
    extension = Extension.objects.filter(cohort=cohort, user=user, assignment_slug=slug).first()
    if extension:
        return extension.due_at
    entry = cohort.schedule.filter(assignment_slug=slug).first()
    return entry.due_at if entry else None


def assignment_rows(
    cohort: Cohort, user, scores: dict[str, tuple[str, float | None]] | None = None
):
    """Each assignment of the cohort's version with release, due, status and score for one user.

    `scores` maps assignment slug to (status, score); the grading app supplies it.
    """
    schedule = schedule_for(cohort)
    extensions = {
        e.assignment_slug: e.due_at for e in Extension.objects.filter(cohort=cohort, user=user)
    }
    now = timezone.now()
    rows = []
    for assignment in cohort.version.assignments.select_related("module").order_by("position"):
        entry = schedule.get(assignment.slug)
        release_at = entry.release_at if entry else None
        due_at = extensions.get(assignment.slug, entry.due_at if entry else None)
        status, score = (scores or {}).get(assignment.slug, ("", None))
        if not status:
            if release_at and release_at > now:
                status = "not_released"
            elif due_at and due_at < now:
                status = "missed"
            else:
                status = "open"
        rows.append(
            AssignmentRow(
                assignment=assignment,
                release_at=release_at,
                due_at=due_at,
                extended=assignment.slug in extensions,
                status=status,
                score=score,
            )
        )
    return rows


def roster(cohort: Cohort) -> QuerySet[Enrolment]:
    return cohort.enrolments.select_related("user").order_by("role", "user__username")
