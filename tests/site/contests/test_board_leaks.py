"""Issue 12, session 6: a participant hunts for the private board before the reveal, and for
others' live scores during a freeze, through every page, fragment, JSON, CSV, entry page,
language and conditional answer. Each test is an attack; all of them held when written."""

from datetime import timedelta

import pytest
from contests import services
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.site.contests.world import contest_world, hand_in
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"
# Scores no other number on a page shares: "9876" is the private one, "5432" the late one.
PRIVATE = 0.987654
LATE = 0.543219
SECRETS = ("9876", "9877")
LATE_MARKS = ("5432",)


def client(user=None, language="en"):
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    if user is not None:
        c.force_login(user)
    return c


def urls(world, entry):
    slug, ch = world["event"].slug, world["challenge"].slug
    return {
        "board": reverse("challenge-board", args=[slug, ch]),
        "live": reverse("challenge-board-live", args=[slug, ch]),
        "json": reverse("challenge-board-json", args=[slug, ch]),
        "csv": reverse("challenge-board-csv", args=[slug, ch]),
        "detail": reverse("challenge-detail", args=[slug, ch]),
        "mine": reverse("challenge-mine", args=[slug, ch]),
        "event": reverse("event-detail", args=[slug]),
        "entry": reverse("entry-detail", args=[entry.pk]),
        "file": reverse("entry-file", args=[entry.pk]),
    }


def body(response) -> str:
    return response.content.decode("utf-8", "replace")


def assert_hidden(response, marks):
    text = body(response)
    assert not any(m in text for m in marks), (response.status_code, text[:2000])


@pytest.fixture
def world():
    w = contest_world("leaks")
    w["ours"] = hand_in(w, "a1", 0.111111, PRIVATE)
    return w


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_private_board_stays_shut_before_the_reveal(world, language):
    challenge = world["challenge"]
    u = urls(world, world["ours"])
    # The organizer looks first, so every cache holds the private tables.
    organizer = client(world["organizer"], language)
    assert any(m in body(organizer.get(u["board"] + "?board=private")) for m in SECRETS)
    json_answer = organizer.get(u["json"] + "?board=private")
    assert str(PRIVATE) in body(json_answer)
    assert organizer.get(u["live"] + "?board=private").status_code == 200
    assert organizer.get(u["csv"]).status_code == 200
    challenge.refresh_from_db()
    version = f"{challenge.board_version}-1"

    me = client(world["a1"], language)
    for url in (u["board"], u["live"], u["json"]):
        refused = me.get(url + "?board=private")
        assert refused.status_code == 403
        assert_hidden(refused, SECRETS)
    # The live fragment with the current version, and the JSON with the organizer's ETag:
    # refused before any 204 or 304 says anything.
    assert me.get(u["live"] + f"?board=private&v={version}").status_code == 403
    etag = json_answer["ETag"]
    assert me.get(u["json"] + "?board=private", HTTP_IF_NONE_MATCH=etag).status_code == 403
    assert me.get(u["csv"]).status_code == 403
    # Everything the participant may open shows the public score only.
    for name in ("board", "live", "json", "detail", "mine", "event", "entry"):
        answer = me.get(u[name])
        assert answer.status_code == 200, name
        assert_hidden(answer, SECRETS)
    assert me.get(u["json"]).headers["Cache-Control"] == "private, no-cache"
    # The private board's tag differs from the public one's (no 304 across boards).
    public_tag = me.get(u["json"])["ETag"]
    assert public_tag != etag
    # Signed out, on a board open to the public: no private board either.
    anonymous = client(language=language)
    assert anonymous.get(u["board"] + "?board=private").status_code == 302
    assert anonymous.get(u["json"] + "?board=private").status_code == 403
    assert_hidden(anonymous.get(u["board"]), SECRETS)


def test_the_entry_page_shows_the_private_score_only_after_the_reveal(world):
    u = urls(world, world["ours"])
    me = client(world["a1"])
    assert_hidden(me.get(u["entry"]), SECRETS)
    services.reveal_private(world["challenge"])
    assert "0.9877" in body(me.get(u["entry"]))
    assert "0.9877" in body(me.get(u["board"]))  # the private board is the default now


def test_a_freeze_hides_others_live_scores_everywhere(world):
    challenge = world["challenge"]
    services.set_freeze(challenge, timezone.now() - timedelta(seconds=1))
    theirs = hand_in(world, "b1", LATE, LATE)
    challenge.refresh_from_db()
    u = urls(world, world["ours"])
    organizer = client(world["organizer"])
    assert "0.5432" in body(organizer.get(u["board"]))  # organizers see live
    assert str(LATE) in body(organizer.get(u["json"]))

    me = client(world["a1"])
    live_version = f"{challenge.board_version}-1"
    for url in (
        u["board"],
        u["live"],
        u["live"] + f"?v={live_version}",  # claims to hold the live table already
        u["json"],
        u["json"] + "?board=public",
        u["detail"],
        u["mine"],
        u["event"],
    ):
        answer = me.get(url)
        assert answer.status_code == 200, url
        assert_hidden(answer, LATE_MARKS)
    assert '"frozen": true' in body(me.get(u["json"]))
    # Another team's entry, its file: refused.
    other = urls(world, theirs)
    for name in ("entry", "file"):
        answer = me.get(other[name])
        assert answer.status_code == 403, name
        assert_hidden(answer, LATE_MARKS)
    # The other team sees its own live standing, above the frozen board.
    assert "0.5432" in body(client(world["b1"]).get(u["board"]))


def test_a_participant_cannot_open_another_teams_entry_or_file(world):
    theirs = hand_in(world, "b1", 0.3)
    other = urls(world, theirs)
    for who in ("a1", "a2", "solo", "mentor", "judge"):
        for name in ("entry", "file"):
            assert client(world[who]).get(other[name]).status_code == 403, (who, name)
    assert client(world["b2"]).get(other["file"]).status_code == 200
    assert client(world["organizer"]).get(other["file"]).status_code == 200


def test_an_entry_named_to_break_the_download_header_is_saved_under_a_plain_name():
    # The participant names the file; the organizer downloads it. A quote would end the header's
    # filename parameter and let the rest of the name add parameters of its own.
    world = contest_world("leak-name")
    entry = services.submit_entry(
        world["challenge"],
        world["a1"],
        b"id,label\n1,0\n",
        "x\"; filename*=UTF-8''evil.html; a=.csv",
    )
    client = Client()
    client.force_login(world["a1"])
    got = client.get(reverse("entry-file", args=[entry.pk]))
    assert got.status_code == 200
    disposition = got["Content-Disposition"]
    assert (
        disposition.count('"') == 2
        and "filename*" not in disposition
        and ";" not in (disposition.split('filename="', 1)[1])
    )
    assert disposition.endswith('.csv"') and got["Content-Type"] == "application/octet-stream"
