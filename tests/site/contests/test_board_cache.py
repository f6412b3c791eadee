"""The rendered boards are cached per (challenge, version, board, live|frozen, language): a cache
filled before a freeze, a landed score or a reveal never shows anyone what they may not see."""

from datetime import timedelta

import pytest
from contests import services
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.site.contests.test_boards import hand_in
from tests.site.contests.world import contest_world
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db


def _clients(world, *who):
    clients = {"anonymous": Client()}
    for name in who:
        clients[name] = Client()
        clients[name].force_login(world[name])
    return clients


def test_a_cache_filled_before_the_freeze_does_not_show_later_scores():
    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    hand_in(world, "b1", 0.5)
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    data = reverse("challenge-board-json", args=[world["event"].slug, challenge.slug])
    clients = _clients(world, "a2", "b2", "organizer")
    for client in clients.values():  # every view of the board cached before the freeze
        assert client.get(page).status_code == 200
        assert client.get(data).status_code == 200

    services.set_freeze(challenge, timezone.now() - timedelta(seconds=1))
    hand_in(world, "b1", 0.9)  # lands after the freeze

    for name in ("anonymous", "a2"):
        body = clients[name].get(page).content.decode()
        assert "0.9000" not in body, name
        assert "The board froze" in body
        rows = clients[name].get(data).json()
        assert rows["frozen"] and [r["score"] for r in rows["rows"] if r["name"] == "Bravo"] == [
            0.5
        ]
    own = clients["b2"].get(page).content.decode()
    assert 'id="own-row"' in own and "0.9000" in own  # Bravo sees its own live score
    table = own[own.index('class="leaderboard"') :]
    assert table.index("Alpha") < table.index("Bravo")  # above the frozen table
    assert "0.9000" in clients["organizer"].get(page).content.decode()
    assert clients["organizer"].get(data).json()["rows"][0]["score"] == 0.9

    services.reveal_private(challenge)
    assert "0.9000" in clients["anonymous"].get(page).content.decode()
    assert clients["a2"].get(data).json()["rows"][0]["name"] == "Bravo"


def test_a_landed_score_replaces_the_cached_table_and_json():
    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    data = reverse("challenge-board-json", args=[world["event"].slug, challenge.slug])
    client = _clients(world, "a2")["a2"]
    assert "0.6000" in client.get(page).content.decode()
    assert client.get(data).json()["rows"][0]["score"] == 0.6
    hand_in(world, "b1", 0.8)
    assert "0.8000" in client.get(page).content.decode()
    assert client.get(data).json()["rows"][0]["name"] == "Bravo"


def test_the_cached_table_is_kept_per_language():
    from django.conf import settings

    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    english, korean = Client(), Client()
    korean.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<th>Rank</th>" in english.get(page).content.decode()
    assert "<th>Rank</th>" not in korean.get(page).content.decode()
    assert "<th>Rank</th>" in english.get(page).content.decode()
