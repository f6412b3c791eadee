"""The help pages' live updates name people as the first render does (display names): the asker's
page said "mentor1 is on the way" after a poll, "Min Mentor" after a reload (found on the walk)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from helpqueue import services
from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db


def test_json_carries_display_names_beside_the_logins():
    event = hackathon("names-hack")
    mentor = make_user("names-mentor", display_name="Min Mentor")
    event.roles.create(user=mentor, role="mentor")
    (asker,) = registered(event, "names-ana")
    asker.display_name = "Ana Asker"
    asker.save(update_fields=["display_name"])
    request = services.ask(event, asker, "Wrong sums", "Table 3")
    services.claim(request, mentor)

    as_asker = Client()
    as_asker.force_login(asker)
    mine = as_asker.get(reverse("help-request-json", args=[request.pk])).json()
    assert (mine["claimed_by"], mine["claimed_by_name"]) == ("names-mentor", "Min Mentor")

    as_mentor = Client()
    as_mentor.force_login(mentor)
    queue = as_mentor.get(reverse("help-queue-json", args=["event", event.slug])).json()
    [row] = queue["requests"]
    assert (row["asker"], row["asker_name"]) == ("names-ana", "Ana Asker")
    assert row["mine"], "the mentor's own claims are still told by login"
    page = as_mentor.get(reverse("help-queue", args=["event", event.slug])).content.decode()
    assert "q.asker_name" in page and "q.claimed_by_name" in page
    home = as_asker.get(reverse("help-home", args=["event", event.slug])).content.decode()
    assert "d.claimed_by_name" in home
