"""Course and cohort rules, and the role lookups other apps build on (registered with
accounts.permissions from LearningConfig.ready).

Roles are held per object: instructor and teaching assistant per course (all its cohorts) or per
cohort, student per cohort.
"""

from __future__ import annotations

from accounts.permissions import rule

INSTRUCTOR = "instructor"
TA = "ta"
STUDENT = "student"


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
    """Course staff, a cohort's instructor or TA, or allowed to add courses.

    The layout asks it on every signed-in page, so it is one query, and written as SQL: the ORM
    took over a millisecond of CPU to build the three EXISTS (the permission one joins five
    tables) on every request, more than the database took to answer it (bench/leaderboard).
    `has_perm` would load all of the user's permissions for the one it needs. The permission part
    is the model backend's rule (active user, direct or through a group; superusers hold all).
    """
    from django.db import connection

    if not user.is_active:
        # Inactive users hold no permission (ModelBackend), and may not sign in either.
        return False
    if user.is_superuser:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            _teaches_anything_sql(), [user.pk, user.pk, INSTRUCTOR, TA, user.pk, user.pk]
        )
        return cursor.fetchone() is not None


_TEACHES_SQL: str | None = None


def _teaches_anything_sql() -> str:
    """Table names from the models, so a swapped user model or a prefix keeps working."""
    global _TEACHES_SQL
    if _TEACHES_SQL is None:
        from django.contrib.auth.models import Group, Permission
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        from accounts.models import User
        from learning.models import CourseStaff, Enrolment

        q = connection.ops.quote_name
        staff, enrolment = q(CourseStaff._meta.db_table), q(Enrolment._meta.db_table)
        permission, content_type = q(Permission._meta.db_table), q(ContentType._meta.db_table)
        user_permissions = q(User.user_permissions.through._meta.db_table)
        user_groups = q(User.groups.through._meta.db_table)
        group_permissions = q(Group.permissions.through._meta.db_table)
        _TEACHES_SQL = (
            f"SELECT 1 WHERE EXISTS (SELECT 1 FROM {staff} WHERE user_id = %s)"
            f" OR EXISTS (SELECT 1 FROM {enrolment} WHERE user_id = %s AND role IN (%s, %s))"
            f" OR EXISTS (SELECT 1 FROM {permission} p"
            f" JOIN {content_type} ct ON ct.id = p.content_type_id"
            f" WHERE p.codename = 'add_course' AND ct.app_label = 'learning' AND ("
            f"EXISTS (SELECT 1 FROM {user_permissions} up"
            f" WHERE up.permission_id = p.id AND up.user_id = %s)"
            f" OR EXISTS (SELECT 1 FROM {group_permissions} gp"
            f" JOIN {user_groups} ug ON ug.group_id = gp.group_id"
            f" WHERE gp.permission_id = p.id AND ug.user_id = %s)))"
        )
    return _TEACHES_SQL


def teaches(user, cohort) -> bool:
    """Instructor or TA of the cohort (directly or through the course)."""
    return cohort_role(user, cohort) in {INSTRUCTOR, TA}


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
    return teaches(user, cohort)


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
