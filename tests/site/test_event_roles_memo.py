"""`events.permissions.event_roles` asked once per request (issue 12, item 6): a role granted or
taken back is seen at once, in the same request and the next, and the memo never reaches another
request or another thread (gunicorn's gthread workers reuse threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import permissions
from events.permissions import event_roles, request_scope
from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db


def test_roles_are_read_once_per_request_scope(db):
    event = hackathon()
    (alice,) = registered(event, "alice")
    with request_scope():
        with CaptureQueriesContext(connection) as first:
            assert event_roles(alice, event) == {"participant"}
        with CaptureQueriesContext(connection) as again:
            for _ in range(5):
                assert event_roles(alice, event) == {"participant"}
    assert len(first) == 1 and len(again) == 0
    with CaptureQueriesContext(connection) as outside:
        event_roles(alice, event)
        event_roles(alice, event)
    assert len(outside) == 2  # no scope (workers, shell): every call reads the database


def test_a_role_granted_or_taken_mid_request_is_seen(db):
    from events.services import grant_role, revoke_role

    event = hackathon()
    (alice,) = registered(event, "alice")
    organizer = make_user("olga")
    grant_role(event, organizer, "organizer")
    with request_scope():
        assert event_roles(alice, event) == {"participant"}
        grant_role(event, alice, "mentor")
        assert event_roles(alice, event) == {"participant", "mentor"}
        revoke_role(event, alice, "mentor")
        assert event_roles(alice, event) == {"participant"}


def test_the_caller_cannot_change_the_memo(db):
    event = hackathon()
    (alice,) = registered(event, "alice")
    with request_scope():
        event_roles(alice, event).add("organizer")
        assert event_roles(alice, event) == {"participant"}


def test_a_change_in_another_thread_is_seen(db, django_db_blocker):
    """A memo filled before another thread granted a role is not trusted after the grant."""
    from events.models import EventRole

    event = hackathon()
    (alice,) = registered(event, "alice")
    with request_scope():
        assert event_roles(alice, event) == {"participant"}
        # The grant's signal, as another thread's save sends it (the test database's transaction
        # is not visible to another thread's connection, so the row is written here).
        EventRole.objects.bulk_create([EventRole(event=event, user=alice, role="judge")])
        assert event_roles(alice, event) == {"participant"}  # bulk_create sends no signal
        done = threading.Thread(target=permissions._roles_changed)
        done.start()
        done.join()
        assert event_roles(alice, event) == {"participant", "judge"}


def test_the_memo_stays_in_its_thread_and_request(db):
    event = hackathon()
    (alice,) = registered(event, "alice")
    seen: list = []
    with request_scope():
        event_roles(alice, event)
        memo = permissions._request_memo.get()
        assert memo
        # A thread of a gthread worker starts with no scope of its own, and so sees no memo.
        thread = threading.Thread(target=lambda: seen.append(permissions._request_memo.get()))
        thread.start()
        thread.join()
    assert seen == [None]
    assert permissions._request_memo.get() is None  # closed with the request


def test_middleware_scopes_each_request(client, db):
    """Through the site: a participant refused the organizer's page is let in on the next
    request after the grant, and the scope is closed after each request."""
    from django.urls import reverse

    from events.services import grant_role

    event = hackathon()
    (alice,) = registered(event, "alice")
    client.force_login(alice)
    url = reverse("event-manage", args=[event.slug])
    assert client.get(url).status_code == 403
    grant_role(event, alice, "organizer")
    assert client.get(url).status_code == 200
    assert permissions._request_memo.get() is None
