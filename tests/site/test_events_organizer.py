"""Organizer forms: the schedule in the event's time zone, tracks, prizes, rules; the mentors' page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from events.models import Phase
from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered, team_with_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client():
    event = hackathon("org-hack")
    Phase.objects.filter(event=event).delete()
    organizer = make_user("org-forms", time_zone="America/New_York")
    event.roles.create(user=organizer, role="organizer")
    client = Client()
    client.force_login(organizer)
    return event, client


def test_the_schedule_is_typed_in_the_events_time_zone_whatever_the_organizers(organizer_client):
    event, client = organizer_client
    url = reverse("event-manage", args=[event.slug])
    data = {
        "form": "schedule",
        "phase-hacking_starts": "2026-12-05T09:00",
        "phase-hacking_ends": "2026-12-06T21:00",
    }
    response = client.post(url, data, follow=True)
    assert "The schedule is saved." in response.content.decode()
    hacking = event.phases.get(kind="hacking")
    seoul = ZoneInfo("Asia/Seoul")  # the event's zone; the organizer lives in New York
    assert hacking.starts_at == datetime(2026, 12, 5, 9, 0, tzinfo=seoul)
    assert event.phases.count() == 1
    # Shown again as typed, in the event's zone.
    page = client.get(url).content.decode()
    assert 'value="2026-12-05T09:00"' in page
    # One without the other, or an end before the start, is refused; nothing changes.
    bad = {**data, "phase-judging_starts": "2026-12-07T10:00"}
    assert "Give both the start and the end" in client.post(url, bad).content.decode()
    backwards = {**data, "phase-hacking_ends": "2026-12-05T08:00"}
    assert "must end after it starts" in client.post(url, backwards).content.decode()
    assert event.phases.get(kind="hacking").ends_at == datetime(2026, 12, 6, 21, 0, tzinfo=seoul)
    # Blank both: the phase goes.
    client.post(url, {"form": "schedule"})
    assert not event.phases.exists()


def test_tracks_prizes_and_rules(organizer_client):
    event, client = organizer_client
    url = reverse("event-manage", args=[event.slug])
    client.post(url, {"form": "track", "track-name": "Kernels", "track-description": "Fast ones"})
    track = event.tracks.get()
    client.post(
        url,
        {"form": "prize", "prize-title": "Fastest", "prize-rank": "1", "prize-track": track.pk},
    )
    assert event.prizes.get().track == track
    form = {
        f"event-{name}": value
        for name, value in {
            "title": "GPU Hackathon 2026",
            "summary": "Two days.",
            "rules": "Be kind. Cite your sources.",
            "time_zone": "Asia/Seoul",
            "starts_at": "2026-12-05T09:00",
            "ends_at": "2026-12-06T21:00",
            "registration_mode": "open",
            "team_size_min": "1",
            "team_size_max": "4",
            "judges_per_project": "2",
        }.items()
    }
    response = client.post(url, {"form": "event", **form}, follow=True)
    assert "The event is saved." in response.content.decode()
    event.refresh_from_db()
    assert event.rules == "Be kind. Cite your sources." and event.title == "GPU Hackathon 2026"
    detail = client.get(reverse("event-detail", args=[event.slug])).content.decode()
    assert "Be kind. Cite your sources." in detail and "Fastest" in detail and "Kernels" in detail
    # An invite-only event without a code is refused.
    invite = {**form, "event-registration_mode": "invite"}
    assert "needs an invite code" in client.post(url, {"form": "event", **invite}).content.decode()
    client.post(url, {"form": "delete-prize", "pk": event.prizes.get().pk})
    client.post(url, {"form": "delete-track", "pk": track.pk})
    assert not event.tracks.exists() and not event.prizes.exists()


def test_the_mentors_page_shows_teams_projects_and_who_is_looking():
    from teams.services import set_looking

    event = hackathon("mentor-hack")
    mentor = make_user("mentor-page")
    event.roles.create(user=mentor, role="mentor")
    ada, ben, solo = registered(event, "m-ada", "m-ben", "m-solo")
    team_with_project(event, "Warp", [ada, ben], title="Tiled matmul")
    set_looking(event, solo, "CUDA, PyTorch")
    client = Client()
    client.force_login(mentor)
    page = client.get(reverse("event-mentor", args=[event.slug])).content.decode()
    assert "Tiled matmul" in page and "m-ada, m-ben" in page and "CUDA, PyTorch" in page
    assert reverse("help-queue", args=["event", event.slug]) in page
    # "Now" names every phase running (registration, hacking and submission overlap here).
    from events.models import Phase

    now = page.split('id="mentor-phase">', 1)[1].split("</p>", 1)[0]
    for kind in ("registration", "hacking", "submission"):
        assert Phase(kind=kind).get_kind_display() in now, kind
    assert Phase(kind="judging").get_kind_display() not in now


def test_the_organizer_gives_and_takes_back_roles_on_the_events_page(organizer_client):
    """No Django admin needed: a judge and a mentor are named on the page, and reach their pages."""
    event, client = organizer_client
    url = reverse("event-manage", args=[event.slug])
    judge = make_user("judge-by-page")
    mentor = make_user("mentor-by-page")
    mentor_page = reverse("event-mentor", args=[event.slug])
    outsider = Client()
    outsider.force_login(mentor)
    assert outsider.get(mentor_page).status_code == 403
    done = client.post(
        url, {"form": "role", "role-person": "JUDGE-BY-PAGE@example.org", "role-role": "judge"}
    )
    assert done.status_code == 302
    client.post(url, {"form": "role", "role-person": "mentor-by-page", "role-role": "mentor"})
    assert set(event.roles.values_list("user__username", "role")) >= {
        ("judge-by-page", "judge"),
        ("mentor-by-page", "mentor"),
    }
    assert outsider.get(mentor_page).status_code == 200
    judge_client = Client()
    judge_client.force_login(judge)
    assert judge_client.get(reverse("judge-home", args=[event.slug])).status_code == 200
    # Unknown people and roles not given on this page are refused; nothing changes.
    before = event.roles.count()
    page = client.post(url, {"form": "role", "role-person": "nobody", "role-role": "judge"})
    assert "No one, or more than one person, has that name." in page.content.decode()
    client.post(url, {"form": "role", "role-person": "judge-by-page", "role-role": "participant"})
    assert event.roles.count() == before
    # Taken back: the mentor loses the page; the last organizer cannot be taken back.
    granted = event.roles.get(user=mentor, role="mentor")
    client.post(url, {"form": "revoke-role", "pk": granted.pk})
    assert outsider.get(mentor_page).status_code == 403
    last = event.roles.get(role="organizer")
    refused = client.post(url, {"form": "revoke-role", "pk": last.pk}, follow=True)
    assert "The event must keep at least one organizer." in refused.content.decode()
    assert event.roles.filter(role="organizer").exists()


def test_only_organizers_change_roles(organizer_client):
    event, _client = organizer_client
    judge = make_user("a-judge")
    event.roles.create(user=judge, role="judge")
    client = Client()
    client.force_login(judge)
    url = reverse("event-manage", args=[event.slug])
    posted = client.post(url, {"form": "role", "role-person": "a-judge", "role-role": "organizer"})
    assert posted.status_code == 403
    assert not event.roles.filter(user=judge, role="organizer").exists()
