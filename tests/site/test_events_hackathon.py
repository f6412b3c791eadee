"""Events: phases in the event's time zone, registration (open, invite code, seat limit under
concurrent registration), announcements and the live banner, the organizer's dashboard."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import can
from events.models import Event, Phase
from events.selectors import phases_in_event_zone
from events.services import RegistrationError, post_announcement, register, unregister
from tests.site.factories import make_user
from tests.site.hackathon import (
    hackathon,
    in_english,  # noqa: F401  (autouse)
)

pytestmark = pytest.mark.django_db


def test_phases_are_stored_in_utc_and_shown_in_the_event_time_zone():
    event = hackathon(time_zone="Asia/Seoul")
    Phase.objects.filter(event=event, kind="judging").update(
        starts_at=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
    )
    row = next(r for r in phases_in_event_zone(event) if r.phase.kind == "judging")
    assert row.starts_local.strftime("%Y-%m-%d %H:%M") == "2026-03-02 00:00"  # UTC+9
    organizer = make_user("org")
    event.roles.create(user=organizer, role="organizer")
    client = Client()
    client.force_login(organizer)
    page = client.get(reverse("event-detail", args=[event.slug])).content.decode()
    assert "2026-03-02 00:00" in page and "Asia/Seoul" in page


def test_open_registration_gives_the_participant_role_once():
    event = hackathon()
    user = make_user("ann")
    assert not can(user, "event.participate", event)
    register(event, user)
    register(event, user)
    event.refresh_from_db()
    assert event.seats_taken == 1 and event.registrations.count() == 1
    assert can(user, "event.participate", event)
    unregister(event.registrations.get())
    event.refresh_from_db()
    assert event.seats_taken == 0 and not can(user, "event.participate", event)


def test_invite_only_registration_needs_the_code():
    event = hackathon(registration_mode="invite", invite_code="GPU2026")
    with pytest.raises(RegistrationError, match="invite code"):
        register(event, make_user("a"), code="WRONG")
    register(event, make_user("b"), code="gpu2026")
    assert event.registrations.count() == 1


def test_registration_closes_with_its_phase():
    event = hackathon()
    Phase.objects.filter(event=event, kind="registration").update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(RegistrationError, match="closed"):
        register(event, make_user("late"))


def test_seat_limit_refuses_the_next_one_and_a_stale_save_keeps_the_count():
    event = hackathon(seat_limit=2)
    stale = Event.objects.get(pk=event.pk)
    register(event, make_user("a"))
    register(event, make_user("b"))
    with pytest.raises(RegistrationError, match="full"):
        register(event, make_user("c"))
    stale.title = "Renamed"
    stale.save()
    event.refresh_from_db()
    assert event.seats_taken == 2 and event.title == "Renamed"


@pytest.mark.django_db(transaction=True)
def test_seat_limit_holds_when_many_register_at_once():
    event = hackathon(seat_limit=5)
    users = [make_user(f"rush{i}") for i in range(16)]
    results: list[str] = []
    barrier = threading.Barrier(len(users))

    def attempt(user):
        barrier.wait()
        try:
            register(event, user)
            results.append("in")
        except RegistrationError:
            results.append("full")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    event.refresh_from_db()
    assert event.registrations.count() == 5 == event.seats_taken
    assert results.count("in") == 5 and results.count("full") == 11


def test_register_page_and_banner_and_dashboard():
    event = hackathon(registration_mode="invite", invite_code="GPU2026")
    organizer, person, outsider = make_user("org"), make_user("p"), make_user("out")
    event.roles.create(user=organizer, role="organizer")
    client = Client()
    client.force_login(person)
    url = reverse("event-register", args=[event.slug])
    assert "register-form" in client.get(url).content.decode()
    client.post(url, {"code": "nope"})
    assert not event.registrations.exists()
    response = client.post(url, {"code": "GPU2026"})
    assert response["Location"] == reverse("event-teams", args=[event.slug])
    banner = reverse("event-banner", args=[event.slug])
    assert "Announcement" not in client.get(banner).content.decode()
    post_announcement(event, organizer, "Pizza in room 2")
    assert "Pizza in room 2" in client.get(banner).content.decode()
    assert client.get(reverse("event-dashboard", args=[event.slug])).status_code == 403
    client.force_login(organizer)
    client.post(reverse("event-announce", args=[event.slug]), {"body": "Judging at 3"})
    page = client.get(reverse("event-dashboard", args=[event.slug])).content.decode()
    assert 'id="stat-registered">1' in page
    client.force_login(person)
    assert "Judging at 3" in client.get(banner).content.decode()
    client.force_login(outsider)
    assert client.get(banner).status_code == 403


def test_event_pages_in_korean():
    event = hackathon()
    (person,) = _registered_korean(event)
    client = Client()
    client.force_login(person)
    page = client.get(reverse("event-detail", args=[event.slug])).content.decode()
    assert "일정" in page and "최종 제출" in page
    teams = client.get(reverse("event-teams", args=[event.slug])).content.decode()
    assert "팀 만들기" in teams


def _registered_korean(event):
    person = make_user("kim", language="ko")
    register(event, person)
    return [person]


def test_open_events_are_listed_for_registration():
    event = hackathon()
    hackathon("invite-only", registration_mode="invite", invite_code="X")
    person = make_user("browser")
    client = Client()
    client.force_login(person)
    page = client.get(reverse("event-list")).content.decode()
    assert reverse("event-register", args=[event.slug]) in page
    assert reverse("event-register", args=["invite-only"]) not in page
    register(event, person)
    page = client.get(reverse("event-list")).content.decode()
    assert reverse("event-detail", args=[event.slug]) in page
    assert reverse("event-register", args=[event.slug]) not in page
