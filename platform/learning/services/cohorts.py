"""Running a course version as a cohort: dates, schedule, late policy, extensions."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from audit import record
from learning.models import (
    AssignmentSchedule,
    Cohort,
    Course,
    CourseVersion,
    Enrolment,
    Extension,
    InviteCode,
)


class CohortError(ValueError):
    pass


@transaction.atomic
def create_cohort(
    course: Course,
    name: str,
    starts_on: date,
    ends_on: date,
    *,
    by=None,
    version: CourseVersion | None = None,
    time_zone: str = "Asia/Seoul",
    seat_limit: int | None = None,
    late_policy: str = Cohort.LatePolicy.NONE,
    days_per_assignment: int = 7,
) -> Cohort:
    """Make a cohort on the course's latest version with a default schedule.

    Assignment k is released at 09:00 local time on the start day plus k days and is due
    `days_per_assignment` days later at 23:59, clipped to the cohort's last day.
    """
    version = version or course.latest_version
    if version is None:
        raise CohortError(_("This course has no published version yet."))
    if ends_on < starts_on:
        raise CohortError(_("A cohort cannot end before it starts."))
    zoneinfo.ZoneInfo(time_zone)
    cohort = Cohort.objects.create(
        course=course,
        version=version,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        time_zone=time_zone,
        seat_limit=seat_limit,
        late_policy=late_policy,
    )
    zone = cohort.zone
    last_due = datetime.combine(ends_on, time(23, 59), zone)
    for index, assignment in enumerate(version.assignments.order_by("position")):
        release = datetime.combine(starts_on + timedelta(days=index), time(9, 0), zone)
        release = min(release, datetime.combine(ends_on, time(9, 0), zone))
        due = min(
            datetime.combine(
                release.date() + timedelta(days=days_per_assignment), time(23, 59), zone
            ),
            last_due,
        )
        AssignmentSchedule.objects.create(
            cohort=cohort, assignment_slug=assignment.slug, release_at=release, due_at=due
        )
    if by is not None:
        Enrolment.objects.get_or_create(
            cohort=cohort,
            user=by,
            defaults={"role": Enrolment.Role.INSTRUCTOR, "source": Enrolment.Source.MANUAL},
        )
    return cohort


def set_schedule(cohort: Cohort, slug: str, release_at: datetime, due_at: datetime) -> None:
    if due_at <= release_at:
        raise CohortError(_("The due time must come after the release time."))
    if not cohort.version.assignments.filter(slug=slug).exists():
        raise CohortError(
            _("This cohort's course version has no assignment %(slug)s.") % {"slug": slug}
        )
    AssignmentSchedule.objects.update_or_create(
        cohort=cohort, assignment_slug=slug, defaults={"release_at": release_at, "due_at": due_at}
    )


@transaction.atomic
def move_cohort_to_version(cohort: Cohort, version: CourseVersion) -> list[str]:
    """Move a running cohort to another version of its course; returns slugs that were added.

    Schedules are kept by assignment slug; new assignments get the schedule of the last one.
    """
    if version.course_id != cohort.course_id:
        raise CohortError(_("That version belongs to another course."))
    existing = {s.assignment_slug: s for s in cohort.schedule.all()}
    fallback = max(existing.values(), key=lambda s: s.due_at, default=None)
    added = []
    for assignment in version.assignments.all():
        if assignment.slug not in existing and fallback is not None:
            AssignmentSchedule.objects.create(
                cohort=cohort,
                assignment_slug=assignment.slug,
                release_at=fallback.release_at,
                due_at=fallback.due_at,
            )
            added.append(assignment.slug)
    cohort.version = version
    cohort.save(update_fields=["version"])
    return added


def grant_extension(
    cohort: Cohort, user, slug: str, due_at: datetime, *, by=None, reason=""
) -> Extension:
    if not cohort.enrolments.filter(user=user).exists():
        raise CohortError(_("%(user)s is not in this cohort.") % {"user": user})
    previous = Extension.objects.filter(cohort=cohort, user=user, assignment_slug=slug).first()
    extension, _created = Extension.objects.update_or_create(
        cohort=cohort,
        user=user,
        assignment_slug=slug,
        defaults={"due_at": due_at, "reason": reason, "granted_by": by},
    )
    record(
        by,
        "learning.extension",
        cohort,
        None if previous is None else {"due_at": previous.due_at, "reason": previous.reason},
        {"assignment": slug, "due_at": due_at, "reason": reason},
        subject=user,
    )
    return extension


def create_invite_code(
    cohort: Cohort, *, by=None, expires_at: datetime | None = None, max_uses: int | None = None
) -> InviteCode:
    return InviteCode.objects.create(
        cohort=cohort, created_by=by, expires_at=expires_at, max_uses=max_uses
    )


def late_penalty_percent(cohort: Cohort, due_at: datetime | None, submitted_at: datetime) -> float:
    """The share of the raw score taken away for lateness, by the cohort's policy (0..100)."""
    if due_at is None or submitted_at <= due_at:
        return 0.0
    late = submitted_at - due_at
    if cohort.late_policy == Cohort.LatePolicy.NONE:
        return 100.0
    if cohort.late_policy == Cohort.LatePolicy.ZERO_AFTER_GRACE:
        return 0.0 if late <= timedelta(hours=cohort.grace_hours) else 100.0
    days_late = -(-late // timedelta(days=1))  # any part of a day counts as a day
    return min(cohort.penalty_percent_per_day * days_late, cohort.penalty_cap_percent)
