"""Every hackathon view against every event role (the course-role matrix in
test_permission_matrix.py only shows that course roles give nothing in an event)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.site import test_permission_matrix as matrix
from tests.site.factories import make_user
from tests.site.hackathon import (
    HACKATHON_URLS,
    hackathon_url,
    hackathon_world,
    in_english,  # noqa: F401  (autouse)
)

pytestmark = pytest.mark.django_db

OK, DENIED, LOGIN = matrix.OK, matrix.DENIED, matrix.LOGIN
ROLES = ["anonymous", "outsider", "participant", "member", "judge", "mentor", "organizer"]
SIGNED_IN = [LOGIN, OK, OK, OK, OK, OK, OK]
ORGANIZER = [LOGIN, DENIED, DENIED, DENIED, DENIED, DENIED, OK]
JUDGE = [LOGIN, DENIED, DENIED, DENIED, OK, DENIED, DENIED]
PARTICIPANTS = [LOGIN, DENIED, OK, OK, DENIED, DENIED, OK]
ANY_ROLE = [LOGIN, DENIED, OK, OK, OK, OK, OK]
TEAM_AND_JUDGE = [LOGIN, DENIED, DENIED, OK, OK, DENIED, OK]  # the judge is assigned to it
ASKERS = [LOGIN, DENIED, OK, OK, DENIED, DENIED, DENIED]
MENTORS = [LOGIN, DENIED, DENIED, DENIED, DENIED, OK, OK]
ASKER_AND_MENTORS = [LOGIN, DENIED, DENIED, OK, DENIED, OK, OK]  # the member asked

EVENT_MATRIX = {
    "event-detail": ("get", ANY_ROLE),
    "event-register": ("get", SIGNED_IN),
    "event-banner": ("get", ANY_ROLE),
    "event-announce": ("post", ORGANIZER),
    "event-dashboard": ("get", ORGANIZER),
    "event-manage": ("get", ORGANIZER),
    "event-mentor": ("get", MENTORS),
    "event-gpu": ("get", ORGANIZER),
    "event-gpu-card": ("get", ORGANIZER),
    "event-teams": ("get", PARTICIPANTS),
    "team-create": ("post", PARTICIPANTS),
    "team-join-code": ("post", PARTICIPANTS),
    "team-leave": ("post", PARTICIPANTS),
    "team-looking": ("post", PARTICIPANTS),
    "team-join": ("get", SIGNED_IN),
    "team-organize": ("post", ORGANIZER),
    "team-project": ("get", TEAM_AND_JUDGE),
    "project-file": ("get", TEAM_AND_JUDGE),
    "judge-home": ("get", JUDGE),
    "judge-conflict": ("post", JUDGE),
    "judge-score": ("get", JUDGE),
    "judging-manage": ("get", ORGANIZER),
    "event-results": ("get", ORGANIZER),  # until published; then every role (test_judging.py)
    "event-results-csv": ("get", ORGANIZER),
    "help-home": ("get", ASKERS),
    "help-queue": ("get", MENTORS),
    "help-queue-json": ("get", MENTORS),
    "help-request-json": ("get", ASKER_AND_MENTORS),
    "help-action": ("post", MENTORS),  # claim; a second mentor is told it was taken
}


def test_every_hackathon_view_has_a_row():
    assert set(HACKATHON_URLS) | {"event-detail"} == set(EVENT_MATRIX)


@pytest.mark.parametrize("name", sorted(EVENT_MATRIX))
def test_hackathon_view_by_event_role(name):
    method, expected = EVENT_MATRIX[name]
    world = hackathon_world()
    users = {"anonymous": None, "outsider": make_user("nobody"), **world}
    if name == "event-detail":
        url = reverse(name, args=[world["event"].slug])
    else:
        url = hackathon_url(name, world)
    for role, want in zip(ROLES, expected, strict=True):
        client = Client()
        if users[role] is not None:
            client.force_login(users[role])
        response = client.post(url) if method == "post" else client.get(url)
        assert matrix.outcome(response) == want, f"{name} as {role}: {response.status_code}"
