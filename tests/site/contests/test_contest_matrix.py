"""Every contests view against every event role, anonymous included."""

import pytest
from django.test import Client

from tests.site import test_permission_matrix as matrix
from tests.site.contests.world import CONTEST_PUBLIC, CONTEST_URLS, contest_url, contest_world
from tests.site.factories import make_user
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

OK, DENIED, LOGIN = matrix.OK, matrix.DENIED, matrix.LOGIN
ROLES = ["anonymous", "outsider", "participant", "member", "judge", "mentor", "organizer"]
ANY_ROLE = [LOGIN, DENIED, OK, OK, OK, OK, OK]
PARTICIPANTS = [LOGIN, DENIED, OK, OK, DENIED, DENIED, DENIED]
ORGANIZER = [LOGIN, DENIED, DENIED, DENIED, DENIED, DENIED, OK]
ENTRY_OWNERS = [LOGIN, DENIED, DENIED, OK, DENIED, DENIED, OK]  # team Alpha's entry

CONTEST_MATRIX = {
    "challenge-list": ANY_ROLE,
    "challenge-detail": ANY_ROLE,
    "challenge-enter": PARTICIPANTS,
    "challenge-mine": PARTICIPANTS,
    **{name: [OK] * 7 for name in CONTEST_PUBLIC},
    "challenge-board-csv": ORGANIZER,
    "challenge-manage": ORGANIZER,
    "challenge-progress": ORGANIZER,
    "challenge-freeze": ORGANIZER,
    "challenge-reveal": ORGANIZER,
    "challenge-rescore": ORGANIZER,
    "entry-detail": ENTRY_OWNERS,
    "entry-file": ENTRY_OWNERS,
    "entry-final": [LOGIN, DENIED, DENIED, OK, DENIED, DENIED, DENIED],
    "entry-rescore": ORGANIZER,
    "entry-accept": ORGANIZER,
}


def test_every_contests_view_has_a_row():
    assert set(CONTEST_MATRIX) == set(CONTEST_URLS)


@pytest.mark.parametrize("name", sorted(CONTEST_MATRIX))
def test_contests_view_by_event_role(name):
    world = contest_world()
    users = {
        "anonymous": None,
        "outsider": make_user("nobody"),
        "participant": world["solo"],
        "member": world["a2"],
        "judge": world["judge"],
        "mentor": world["mentor"],
        "organizer": world["organizer"],
    }
    url = contest_url(name, world)
    got = []
    for role in ROLES:
        client = Client()
        if users[role] is not None:
            client.force_login(users[role])
        response = getattr(client, CONTEST_URLS[name])(url)
        got.append(matrix.outcome(response))
    assert got == CONTEST_MATRIX[name], dict(zip(ROLES, got, strict=True))


def test_a_private_challenge_board_needs_a_role_in_the_event():
    from contests.models import Challenge

    world = contest_world()
    Challenge.objects.filter(pk=world["challenge"].pk).update(public_board=False)
    url = contest_url("challenge-board", world)
    assert matrix.outcome(Client().get(url)) == LOGIN
    outsider = Client()
    outsider.force_login(make_user("nobody"))
    assert matrix.outcome(outsider.get(url)) == DENIED
    judge = Client()
    judge.force_login(world["judge"])
    assert matrix.outcome(judge.get(url)) == OK
