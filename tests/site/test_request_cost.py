"""The per-request cost of signed-in pages (issue 12, item 6, round 2): the layout's "Teaching"
check in one query with the same answers, the event page's role list without participants for
non-organizers, and persistent database connections by default."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learning.permissions import teaches_anything
from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db


def test_teaches_anything_answers(published, people):
    from django.contrib.auth.models import Permission

    from learning.models import Enrolment

    assert teaches_anything(people["instructor"])  # add_course through a group
    assert teaches_anything(people["ta"])  # course staff
    assert not teaches_anything(people["student"])
    assert not teaches_anything(people["outsider"])
    direct = make_user("direct")
    direct.user_permissions.add(Permission.objects.get(codename="add_course"))
    assert teaches_anything(direct)
    cohort_ta = make_user("cohort-ta")
    Enrolment.objects.create(
        cohort=published["cohort"], user=cohort_ta, role=Enrolment.Role.TEACHING_ASSISTANT,
        source=Enrolment.Source.MANUAL,
    )  # fmt: skip
    assert teaches_anything(cohort_ta)
    assert teaches_anything(make_user("root", is_superuser=True))
    direct.is_active = False
    assert not teaches_anything(direct)


def test_teaches_anything_is_one_query(published, people):
    for who in ("student", "ta", "instructor"):
        user = type(people[who]).objects.get(pk=people[who].pk)  # no permission cache
        with CaptureQueriesContext(connection) as queries:
            teaches_anything(user)
        assert len(queries) == 1, who


def test_event_page_lists_participants_to_organizers_only(client):
    from events.services import grant_role

    event = hackathon()
    alice, bob = registered(event, "alice", "bob")
    mentor = make_user("menta")
    grant_role(event, mentor, "mentor")
    organizer = make_user("olga")
    grant_role(event, organizer, "organizer")
    url = f"/events/{event.slug}/"

    client.force_login(alice)
    page = client.get(url)
    names = [r.user.username for r in page.context["roles"]]
    assert "menta" in names and "olga" in names
    assert "bob" not in names and "alice" not in names

    client.force_login(organizer)
    names = [r.user.username for r in client.get(url).context["roles"]]
    assert {"alice", "bob", "menta", "olga"} <= set(names)


def test_database_connections_persist_by_default():
    # Set from the environment in deployments; the default keeps a worker thread's connection.
    if "KC_DB_CONN_MAX_AGE" not in os.environ:
        assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
