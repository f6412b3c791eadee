"""Roles per event: organizer, mentor, judge and participant."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.permissions import can
from tests.site.factories import make_event, make_user

pytestmark = pytest.mark.django_db

ACTIONS = ["event.view", "event.manage", "event.mentor", "event.judge"]
EXPECTED = {
    "organizer": {"event.view", "event.manage", "event.mentor"},
    "mentor": {"event.view", "event.mentor"},
    "judge": {"event.view", "event.judge"},
    "participant": {"event.view"},
    "nobody": set(),
}


def test_event_roles_decide_what_each_person_may_do():
    people = {role: make_user(role) for role in EXPECTED}
    event = make_event(**{role: [user] for role, user in people.items() if role != "nobody"})
    for role, user in people.items():
        allowed = {action for action in ACTIONS if can(user, action, event)}
        assert allowed == EXPECTED[role], role
    other = make_event("another-event", organizer=[make_user("someone")])
    assert not can(people["organizer"], "event.manage", other), "roles do not carry across events"


def test_event_page_by_role():
    judge, outsider, participant = make_user("judge"), make_user("outsider"), make_user("p")
    event = make_event(judge=[judge], participant=[participant])
    url = reverse("event-detail", args=[event.slug])
    client = Client()
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(judge)
    page = client.get(url).content.decode()
    assert 'id="judge-note"' in page
    client.force_login(participant)
    page = client.get(url).content.decode()
    assert 'id="judge-note"' not in page
    assert Client().get(url)["Location"].startswith(reverse("login"))
