"""The one place that answers "may this user do this to this object?".

Every view asks `require(user, action, obj)`; templates ask `can`. Roles are held per object:
instructor and teaching assistant per course (all its cohorts) or per cohort, student per cohort,
staff site-wide.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied

STAFF = "staff"
INSTRUCTOR = "instructor"
TA = "ta"
STUDENT = "student"

_RULES: dict[str, Callable] = {}


def rule(action: str):
    def register(func: Callable) -> Callable:
        _RULES[action] = func
        return func

    return register


def actions() -> list[str]:
    return sorted(_RULES)


def can(user, action: str, obj=None) -> bool:
    if action not in _RULES:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    return bool(_RULES[action](user, obj))


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(action)


# --- role lookups -------------------------------------------------------------------------------


def course_role(user, course) -> str | None:
    from learning.models import CourseStaff

    return (
        CourseStaff.objects.filter(course=course, user=user).values_list("role", flat=True).first()
    )


def cohort_role(user, cohort) -> str | None:
    """The strongest role the user holds in a cohort, counting course-wide staff roles."""
    from learning.models import Enrolment

    roles = {course_role(user, cohort.course)}
    roles.add(
        Enrolment.objects.filter(cohort=cohort, user=user).values_list("role", flat=True).first()
    )
    for role in (INSTRUCTOR, TA, STUDENT):
        if role in roles:
            return role
    return None


def teaches_anything(user) -> bool:
    from learning.models import CourseStaff, Enrolment

    if user.has_perm("learning.add_course"):
        return True
    return (
        CourseStaff.objects.filter(user=user).exists()
        or Enrolment.objects.filter(user=user, role__in=[INSTRUCTOR, TA]).exists()
    )


# --- rules: `obj` is named in each rule's parameter -------------------------------------------


@rule("site.admin")
def _site_admin(user, _obj) -> bool:
    return False  # staff only, answered in `can`


@rule("teaching.dashboard")
def _teaching_dashboard(user, _obj) -> bool:
    return teaches_anything(user)


@rule("course.publish")
def _course_publish(user, course) -> bool:
    """`course` is a Course, or None for a course not yet published."""
    if course is None:
        return user.has_perm("learning.add_course")
    return course_role(user, course) == INSTRUCTOR


@rule("course.teach")
def _course_teach(user, course) -> bool:
    return course_role(user, course) in {INSTRUCTOR, TA}


@rule("cohort.create")
def _cohort_create(user, course) -> bool:
    return course_role(user, course) == INSTRUCTOR


@rule("cohort.view")
def _cohort_view(user, cohort) -> bool:
    return cohort_role(user, cohort) is not None


@rule("cohort.roster")
def _cohort_roster(user, cohort) -> bool:
    return cohort_role(user, cohort) in {INSTRUCTOR, TA}


@rule("cohort.manage")
def _cohort_manage(user, cohort) -> bool:
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("cohort.join")
def _cohort_join(user, _obj) -> bool:
    return True  # any signed-in user may try a code; the code itself is checked by the service


@rule("assignment.view")
def _assignment_view(user, cohort_assignment) -> bool:
    cohort, assignment = cohort_assignment
    role = cohort_role(user, cohort)
    if role in {INSTRUCTOR, TA}:
        return True
    if role != STUDENT:
        return False
    from learning.selectors import is_released

    return is_released(cohort, assignment.slug)


@rule("submission.create")
def _submission_create(user, cohort_assignment) -> bool:
    cohort, assignment = cohort_assignment
    if cohort_role(user, cohort) != STUDENT:
        return False
    from learning.selectors import is_released

    return is_released(cohort, assignment.slug)


@rule("submission.view")
def _submission_view(user, submission) -> bool:
    return submission.student_id == user.pk or cohort_role(user, submission.cohort) in {
        INSTRUCTOR,
        TA,
    }


@rule("gradebook.view")
def _gradebook_view(user, cohort) -> bool:
    return cohort_role(user, cohort) in {INSTRUCTOR, TA}


@rule("gradebook.manage")
def _gradebook_manage(user, cohort) -> bool:
    """Overrides, regrades and releasing hidden tests."""
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("review.view")
def _review_view(user, cohort) -> bool:
    """The review queue of held and flagged submissions: TAs read it to prepare decisions."""
    return cohort_role(user, cohort) in {INSTRUCTOR, TA}


@rule("review.decide")
def _review_decide(user, cohort) -> bool:
    """Releasing held points, adjusting or zeroing changes a grade: the instructor's call."""
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("session.launch")
def _session_launch(user, _obj) -> bool:
    return True  # which profile, and whether there is budget, is checked by compute.services


@rule("session.control")
def _session_control(user, session) -> bool:
    """Follow, stop or open one GPU session: its owner."""
    return session.user_id == user.pk


@rule("usage.cohort")
def _usage_cohort(user, cohort) -> bool:
    return cohort_role(user, cohort) in {INSTRUCTOR, TA}


def event_roles(user, event) -> set[str]:
    from events.models import EventRole

    return set(EventRole.objects.filter(event=event, user=user).values_list("role", flat=True))


@rule("event.view")
def _event_view(user, event) -> bool:
    return bool(event_roles(user, event))


@rule("event.manage")
def _event_manage(user, event) -> bool:
    return "organizer" in event_roles(user, event)


@rule("event.mentor")
def _event_mentor(user, event) -> bool:
    return bool(event_roles(user, event) & {"organizer", "mentor"})


@rule("event.judge")
def _event_judge(user, event) -> bool:
    return "judge" in event_roles(user, event)
