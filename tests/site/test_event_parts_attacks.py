"""Issue 12, session 6: the event page's cached parts after every kind of write, the Django admin's
included (its forms save through the ORM, its bulk delete sends post_delete per object), a part
moved to another event, an event moved to another organization, and a deleted event or phase."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from accounts.models import Organization
from events.models import Announcement, Event, Phase, Prize, Track
from tests.site.factories import make_user
from tests.site.hackathon import hackathon

pytestmark = pytest.mark.django_db


def viewer(*events):
    user = make_user("parts-viewer")
    for event in events:
        event.roles.get_or_create(user=user, role="mentor")
    client = Client()
    client.force_login(user)
    return client


def page(client, event) -> str:
    response = client.get(f"/events/{event.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def superuser_client():
    root = make_user("parts-root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    return root, client


def test_an_announcement_moved_to_another_event_in_the_admin_leaves_the_first_page():
    first, second = hackathon("parts-one"), hackathon("parts-two")
    root, staff = superuser_client()
    note = Announcement.objects.create(event=first, body="Pizza at noon", author=root)
    client = viewer(first, second)
    assert "Pizza at noon" in page(client, first)
    assert "Pizza at noon" not in page(client, second)
    answer = staff.post(
        f"/admin/events/announcement/{note.pk}/change/",
        {"event": second.pk, "body": "Pizza at noon", "author": root.pk},
    )
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    assert "Pizza at noon" not in page(client, first)
    assert "Pizza at noon" in page(client, second)


def test_the_admins_bulk_delete_of_announcements_shows_at_once():
    event = hackathon("parts-bulk")
    notes = [Announcement.objects.create(event=event, body=f"Note {n}") for n in range(3)]
    client = viewer(event)
    assert "Note 2" in page(client, event)
    _root, staff = superuser_client()
    answer = staff.post(
        "/admin/events/announcement/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [n.pk for n in notes[1:]],
        },
    )
    assert answer.status_code == 302
    text = page(client, event)
    assert "Note 0" in text and "Note 1" not in text and "Note 2" not in text


def test_an_event_moved_to_another_organization_shows_the_new_one():
    event = hackathon("parts-org")
    client = viewer(event)
    before = str(event.organization)
    assert before in page(client, event)
    other = Organization.objects.create(name="Other Lab", slug="other-lab")
    # What the admin's event form does on save (the form itself needs every inline's data).
    request = RequestFactory().post("/admin/")
    request.user = superuser_client()[0]
    event.refresh_from_db()
    event.organization = other
    admin.site._registry[Event].save_model(request, event, form=None, change=True)
    assert "Other Lab" in page(client, event)
    # A rename of the organization still shows too.
    other.name = "Renamed Lab"
    other.save()
    assert "Renamed Lab" in page(client, event)


def test_a_deleted_phase_track_and_a_prize_left_without_its_track():
    event = hackathon("parts-del")
    track = Track.objects.create(event=event, name="Kernels track")
    Prize.objects.create(event=event, track=track, title="Fastest kernel")
    client = viewer(event)
    text = page(client, event)
    assert "Kernels track" in text and "Fastest kernel" in text
    track.delete()  # the prize's track is set empty by a plain UPDATE; the track's delete touches
    text = page(client, event)
    assert "Kernels track" not in text and "Fastest kernel" in text
    phase = Phase.objects.filter(event=event).first()
    shown = phase.get_kind_display()
    assert shown in page(client, event)
    Phase.objects.filter(event=event).delete()  # a queryset delete sends post_delete per row
    assert shown not in page(client, event)


def test_a_deleted_event_made_again_under_the_same_slug_shows_none_of_the_old_parts():
    event = hackathon("parts-again")
    Announcement.objects.create(event=event, body="From the first one")
    client = viewer(event)
    assert "From the first one" in page(client, event)
    event.delete()
    assert client.get("/events/parts-again/").status_code == 404
    again = hackathon("parts-again")
    again.roles.get_or_create(user=make_user("parts-viewer2"), role="organizer")
    fresh = Client()
    fresh.force_login(again.roles.get().user)
    assert "From the first one" not in page(fresh, again)
