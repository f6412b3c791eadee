"""Issue 12, session 6: the layout's two questions written as SQL (learning.permissions
.teaches_anything, compute.context_processors._warned_session_id) answer as Django's own rules do,
for the users whose answer differs: inactive, superuser, add_course directly or through a group
only, course staff, a cohort's TA, another app's add_course. Run on SQLite by the suite, and on
PostgreSQL with scripts/with-postgres.sh."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from compute.context_processors import _warned_session_id
from learning.permissions import teaches_anything
from tests.site.factories import make_user

pytestmark = pytest.mark.django_db


def add_course() -> Permission:
    return Permission.objects.get(content_type__app_label="learning", codename="add_course")


def the_orm_says(user) -> bool:
    """What the layout answered before the SQL: staff or TA anywhere, or `has_perm` (the model
    backend: active users only, superusers hold everything, direct or through a group)."""
    from learning.models import CourseStaff, Enrolment

    fresh = type(user).objects.get(pk=user.pk)  # has_perm caches; the SQL never does
    return (
        fresh.is_active
        and (
            CourseStaff.objects.filter(user=fresh).exists()
            or Enrolment.objects.filter(user=fresh, role__in=["instructor", "ta"]).exists()
        )
    ) or fresh.has_perm("learning.add_course")


def people() -> dict:
    group = Group.objects.create(name="course makers")
    group.permissions.add(add_course())
    lookalike_type = ContentType.objects.get_for_model(Group)
    lookalike, _ = Permission.objects.get_or_create(
        content_type=lookalike_type, codename="add_course", defaults={"name": "not ours"}
    )
    out = {
        "plain": make_user("sql-plain"),
        "superuser": make_user("sql-super", is_superuser=True, is_staff=True),
        "inactive-superuser": make_user("sql-super-off", is_superuser=True, is_active=False),
        "direct": make_user("sql-direct"),
        "group": make_user("sql-group"),
        "inactive-group": make_user("sql-group-off", is_active=False),
        "other-app": make_user("sql-other-app"),
        "empty-group": make_user("sql-empty-group"),
    }
    out["direct"].user_permissions.add(add_course())
    out["group"].groups.add(group)
    out["inactive-group"].groups.add(group)
    out["other-app"].user_permissions.add(lookalike)
    out["empty-group"].groups.add(Group.objects.create(name="nothing"))
    return out


def test_teaches_anything_answers_as_the_model_backend():
    users = people()
    answers = {name: teaches_anything(user) for name, user in users.items()}
    assert answers == {name: the_orm_says(user) for name, user in users.items()}
    assert answers == {
        "plain": False,
        "superuser": True,
        "inactive-superuser": False,
        "direct": True,
        "group": True,
        "inactive-group": False,
        "other-app": False,
        "empty-group": False,
    }


def test_course_staff_and_a_cohorts_ta_teach_and_a_student_does_not(published, people):
    from learning.models import Enrolment

    cohort_ta = make_user("sql-cohort-ta")
    Enrolment.objects.create(cohort=published["cohort"], user=cohort_ta, role="ta")
    for name, expected in (("instructor", True), ("ta", True), ("student", False)):
        assert teaches_anything(people[name]) is expected, name
        assert the_orm_says(people[name]) is expected, name
    assert teaches_anything(cohort_ta) is the_orm_says(cohort_ta) is True
    people["instructor"].is_active = False
    people["instructor"].save()
    assert teaches_anything(people["instructor"]) is False


def test_the_layout_shows_teaching_by_the_same_answer():
    users = people()
    for name in ("group", "plain", "superuser"):
        client = Client()
        client.force_login(users[name])
        page = client.get("/").content.decode()
        assert ('id="nav-teach"' in page) is teaches_anything(users[name]), name


def test_the_budget_warning_finds_only_the_users_own_active_warned_session():
    from django.utils import timezone

    from compute.models import HubSession

    ann, bob = make_user("sql-ann"), make_user("sql-bob")
    now = timezone.now()
    HubSession.objects.create(
        user=ann, hub_username="ann", status="stopped", warned_at=now, requested_at=now
    )
    assert _warned_session_id(ann.pk) is None
    quiet = HubSession.objects.create(user=ann, hub_username="ann", status="running")
    assert _warned_session_id(ann.pk) is None
    HubSession.objects.filter(pk=quiet.pk).update(warned_at=now)
    assert _warned_session_id(ann.pk) == quiet.pk
    assert _warned_session_id(bob.pk) is None
    HubSession.objects.filter(pk=quiet.pk).update(status="stopping")
    assert _warned_session_id(ann.pk) == quiet.pk  # stopping is still active
