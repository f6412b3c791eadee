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
    "challenge-download": ANY_ROLE,  # as the statement: starter.py and public/ only
    **{name: [OK] * 7 for name in CONTEST_PUBLIC},
    "challenge-board-csv": ORGANIZER,
    "challenge-manage": ORGANIZER,
    "challenge-progress": ORGANIZER,
    "challenge-settings": ORGANIZER,
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


def test_contests_views_by_event_role():
    """One world for every URL (building it is most of the time); GETs first, then the POSTs,
    whose effects (freeze, reveal, rescore) change no outcome here."""
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
    clients = {}
    for role, user in users.items():
        clients[role] = Client()
        if user is not None:
            clients[role].force_login(user)
    wrong = {}
    for name in sorted(CONTEST_MATRIX, key=lambda n: (CONTEST_URLS[n] == "post", n)):
        url = contest_url(name, world)
        got = [matrix.outcome(getattr(clients[role], CONTEST_URLS[name])(url)) for role in ROLES]
        if got != CONTEST_MATRIX[name]:
            wrong[name] = dict(zip(ROLES, got, strict=True))
    assert not wrong


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
