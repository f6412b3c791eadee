"""Which board a link without `?board=` opens: the public one until the private board is revealed,
then the private (final) one, with the public one a tab away (issue 12, point 4)."""

import json

import pytest
from contests import services
from django.test import Client
from django.urls import reverse

from tests.site.contests.world import contest_world, run_to_result, scored
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def _world_with_scores() -> dict:
    world = contest_world()
    challenge = world["challenge"]
    for who, public, private in (("a1", 0.9, 0.4), ("b1", 0.7, 0.95)):
        entry = services.submit_entry(challenge, world[who], CSV, "p.csv")
        run_to_result(entry.pk, scored(public, private))
    challenge.refresh_from_db()
    return world


def _url(world, name="challenge-board") -> str:
    return reverse(name, args=[world["event"].slug, world["challenge"].slug])


def _board_of(page: str) -> str:
    start = page.index('<table class="leaderboard" data-board="') + len(
        '<table class="leaderboard" data-board="'
    )
    return page[start : page.index('"', start)]


def test_before_the_reveal_the_board_opens_on_the_public_one():
    world = _world_with_scores()
    client = Client()
    client.force_login(world["a1"])
    page = client.get(_url(world)).content.decode()
    assert _board_of(page) == "public"
    assert "public leaderboard" in page
    assert "?board=private" not in page  # not revealed: no tab to it for a participant


def test_after_the_reveal_the_board_opens_on_the_private_one_and_public_is_a_tab_away():
    world = _world_with_scores()
    services.reveal_private(world["challenge"])
    client = Client()
    client.force_login(world["b2"])
    page = client.get(_url(world)).content.decode()
    assert _board_of(page) == "private"
    assert "private leaderboard" in page
    # Bravo leads on the secret rows, Alpha on the public ones.
    assert page.index("Bravo") < page.index("Alpha")
    assert f'href="{_url(world)}?board=public"' in page
    assert f'href="{_url(world)}?board=private" aria-current="page"' in page
    public = client.get(_url(world) + "?board=public").content.decode()
    assert _board_of(public) == "public"
    assert public.index("Alpha") < public.index("Bravo")
    # Anyone (the challenge's public board is open to all): the same default, signed out.
    assert _board_of(Client().get(_url(world)).content.decode()) == "private"


def test_after_the_reveal_the_live_fragment_keeps_polling_the_board_shown():
    world = _world_with_scores()
    services.reveal_private(world["challenge"])
    page = Client().get(_url(world)).content.decode()
    assert f"{_url(world, 'challenge-board-live')}?board=private&amp;v=" in page


def test_the_json_follows_the_same_default():
    world = _world_with_scores()
    client = Client()
    assert json.loads(client.get(_url(world, "challenge-board-json")).content)["board"] == "public"
    services.reveal_private(world["challenge"])
    assert json.loads(client.get(_url(world, "challenge-board-json")).content)["board"] == "private"
    services.reveal_private(world["challenge"], reveal=False)
    assert json.loads(client.get(_url(world, "challenge-board-json")).content)["board"] == "public"


def test_links_from_other_pages_open_the_default_and_the_organizer_page_names_each_board():
    world = _world_with_scores()
    services.reveal_private(world["challenge"])
    client = Client()
    client.force_login(world["organizer"])
    detail = client.get(_url(world, "challenge-detail")).content.decode()
    # The statement page's link carries no board: after the reveal it opens the private one.
    assert f'href="{_url(world)}"' in detail
    assert _board_of(client.get(_url(world)).content.decode()) == "private"
    manage = client.get(_url(world, "challenge-manage")).content.decode()
    assert f'href="{_url(world)}?board=public"' in manage
    assert f'href="{_url(world)}?board=private"' in manage
