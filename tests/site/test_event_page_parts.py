"""The event page's cached parts (phases, tracks, prizes, announcements, organization) are never
stale: every write raises the event's content version, which the page reads with the event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db

PART_TABLES = ("events_phase", "events_track", "events_prize", "events_announcement")


@pytest.fixture
def seen():
    event = hackathon("cached")
    (alice,) = registered(event, "alice")
    client = Client()
    client.force_login(alice)
    url = f"/events/{event.slug}/"

    def page() -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    page()  # the parts are cached now
    return event, page


def test_a_second_view_reads_no_part_again(seen):
    event, page = seen
    with CaptureQueriesContext(connection) as queries:
        page()
    asked = " ".join(q["sql"] for q in queries.captured_queries)
    assert not [t for t in PART_TABLES if t in asked], asked


def test_every_write_shows_on_the_next_view(seen):
    from accounts.models import Organization
    from events.models import Phase, Prize, Track
    from events.services import post_announcement

    event, page = seen
    post_announcement(event, make_user("olga"), "Dinner is served in hall B")
    assert "Dinner is served in hall B" in page()

    track = Track.objects.create(event=event, name="Sparse kernels", description="CSR and more")
    assert "Sparse kernels" in page()
    Prize.objects.create(event=event, track=track, title="Golden warp", description="a GPU", rank=1)
    assert "Golden warp" in page()
    track.name = "Dense kernels"
    track.save()
    assert "Dense kernels" in page() and "Sparse kernels" not in page()

    phase = Phase.objects.get(event=event, kind="judging")
    phase.ends_at += timedelta(days=3)
    phase.save()
    assert (phase.ends_at.astimezone(event.zone)).strftime("%Y-%m-%d %H:%M") in page()
    Phase.objects.filter(event=event, kind="results").delete()
    assert Phase.objects.get(event=event, kind="judging").get_kind_display() in page()

    organization = Organization.objects.get(pk=event.organization_id)
    organization.name = "Seoul GPU Society"
    organization.save()
    assert "Seoul GPU Society" in page()


def test_a_stale_save_of_the_event_does_not_bring_old_parts_back(seen):
    from events.models import Event
    from events.services import post_announcement

    event, page = seen
    stale = Event.objects.get(pk=event.pk)  # read before the announcement
    post_announcement(event, make_user("olga"), "Kernels due at noon")
    assert "Kernels due at noon" in page()
    stale.title = "GPU Hackathon, renamed"
    stale.save()  # a full save leaves the version alone (protected counter)
    text = page()
    assert "GPU Hackathon, renamed" in text and "Kernels due at noon" in text


def test_events_start_at_random_versions():
    # Not at 0: an event made again under a rolled-back id must not meet the old one's parts.
    first, second = hackathon("first"), hackathon("second")
    assert abs(first.content_version - second.content_version) > 1000
