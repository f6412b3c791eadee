"""Small holes found walking the demo hackathon in a browser as its users (session 6, task E)."""

import re

import pytest
from contests.models import Challenge
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.site.contests.world import contest_world
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db


def _page(user, url: str, language: str = "en") -> str:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(url).content.decode()


def test_a_board_says_seeds_for_a_kernel_challenge_and_rows_for_predictions():
    """The board read "Scored on the public seeds or rows." whatever the challenge was."""
    world = contest_world("walk6-board")
    challenge, event = world["challenge"], world["event"]
    url = reverse("challenge-board", args=[event.slug, challenge.slug])
    page = _page(world["a1"], url)
    assert "Scored on the public rows of the test set." in page
    assert "seeds" not in page
    private = _page(world["organizer"], url + "?board=private")
    assert "Scored on the private rows of the test set." in private
    Challenge.objects.filter(pk=challenge.pk).update(kind="kernel")
    page = _page(world["a1"], url)
    assert "Scored on the public seeds." in page and "rows" not in page
    assert "공개 시드로 채점합니다." in _page(world["a1"], url, "ko")


def test_the_tab_of_the_board_shown_is_marked_for_the_eye_too():
    world = contest_world("walk6-tabs")
    url = reverse("challenge-board", args=[world["event"].slug, world["challenge"].slug])
    assert (
        'href="/events/walk6-tabs/challenges/tiny-preds/board/?board=public" aria-current="page"'
        in (_page(world["a1"], url))
    )
    from django.contrib.staticfiles import finders

    css = open(finders.find("kernelcamp/site.css"), encoding="utf-8").read()
    assert '.board-tabs a[aria-current="page"]' in css


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_statement_does_not_repeat_the_page_title(language):
    """The README's own '# Title' made a second <h1> under the page's, saying the same."""
    world = contest_world(f"walk6-title-{language}")
    url = reverse("challenge-detail", args=[world["event"].slug, world["challenge"].slug])
    page = _page(world["a1"], url, language)
    assert len(re.findall(r"<h1[ >]", page)) == 1
    assert "public/test.csv" in page  # the statement's text is still there


def test_a_judge_or_mentor_is_not_offered_to_register_for_their_own_event():
    world = contest_world("walk6-register")
    for role in ("judge", "mentor", "organizer"):
        page = _page(world[role], reverse("event-list"))
        assert 'id="open-events"' not in page, role
        assert "walk6-register" in page, role  # listed among their events


def test_event_registration_reads_as_taking_part_in_korean_not_signing_up():
    """ "Register" was "회원가입" (making an account) on the event list's button."""
    from tests.site.factories import make_user

    contest_world("walk6-ko-register")
    newcomer = make_user("walk6-newcomer")
    page = _page(newcomer, reverse("event-list"), "ko")
    assert 'id="open-events"' in page and "참가 신청" in page
    with translation.override("ko"):
        assert (
            translation.gettext("Register") == "회원가입"
        )  # the site's sign-up link keeps its word


def test_the_help_queue_columns_read_right_in_korean():
    world = contest_world("walk6-help")
    page = _page(world["mentor"], reverse("help-queue", args=["event", world["event"].slug]), "ko")
    assert "<th>질문자</th><th>대기 시간</th>" in page
    assert "수행자" not in page


def test_your_entries_keep_polling_with_nothing_pending():
    """With nothing queued the list was never asked again: an entry handed in from another tab,
    or by a team-mate, did not show until a reload."""
    world = contest_world("walk6-poll")
    url = reverse("challenge-detail", args=[world["event"].slug, world["challenge"].slug])
    mine = reverse("challenge-mine", args=[world["event"].slug, world["challenge"].slug])
    page = _page(world["a1"], url)
    assert f'<div id="my-entries" hx-get="{mine}" hx-trigger="every 20s"' in page
    from contests import services

    services.submit_entry(world["challenge"], world["a2"], b"id,label\n1,0\n", "p.csv")
    assert 'hx-trigger="every 3s"' in _page(world["a1"], mine)  # the team-mate's, queued


def test_the_team_invite_page_asks_to_register_only_those_who_have_not():
    """A registered participant was told to register first (in Korean "회원가입", sign up)."""
    from tests.site.factories import make_user

    world = contest_world("walk6-join")
    url = reverse("team-join", args=[world["team_a"].join_code])
    assert 'id="register-first"' not in _page(world["solo"], url)
    stranger = _page(make_user("walk6-stranger"), url, "ko")
    assert 'id="register-first"' in stranger and "참가 신청" in stranger


def test_after_the_reveal_the_statement_page_says_entries_are_closed():
    """It still read "Entries close <a date to come>" above "not taking entries now"."""
    from contests import services

    world = contest_world("walk6-closed")
    url = reverse("challenge-detail", args=[world["event"].slug, world["challenge"].slug])
    assert "Entries close " in _page(world["a1"], url)
    services.reveal_private(world["challenge"])
    page = _page(world["a1"], url)
    assert "Entries close " not in page and 'id="closed-by-reveal"' in page
    assert "비공개 순위표가 공개되어 제출이 마감되었습니다." in _page(world["a1"], url, "ko")


def test_a_mentor_finds_the_mentors_page_in_the_event_nav():
    """A judge's nav led to judging; a mentor's had no way to the mentors' page but the event page."""
    world = contest_world("walk6-mentor-nav")
    url = reverse("challenge-list", args=[world["event"].slug])
    mentor_page = reverse("event-mentor", args=[world["event"].slug])
    assert f'href="{mentor_page}"' in _page(world["mentor"], url)
    assert f'href="{mentor_page}"' not in _page(world["a1"], url)


def test_participants_download_the_public_files_the_statement_names_and_nothing_else():
    """The statement sends people to public/train.csv, public/test.csv and starter.py, and the
    site offered no way to get them."""
    from pathlib import Path

    from contests.downloads import participant_files

    from tests.site.contests.world import TINY

    world = contest_world("walk6-files")
    challenge, event = world["challenge"], world["event"]
    page = _page(world["a1"], reverse("challenge-detail", args=[event.slug, challenge.slug]))
    url = reverse("challenge-download", args=[event.slug, challenge.slug, "public/test.csv"])
    assert f'href="{url}"' in page
    assert [f.name for f in participant_files(challenge)] == sorted(
        f"public/{p.name}" for p in (TINY / "public").iterdir()
    )
    client = Client()
    client.force_login(world["a1"])
    got = client.get(url)
    assert got.status_code == 200 and got.content == (TINY / "public" / "test.csv").read_bytes()
    assert got["Content-Disposition"] == 'attachment; filename="tiny-preds-test.csv"'
    base = reverse("challenge-download", args=[event.slug, challenge.slug, "x"])[:-1]
    for name in ["secret/labels.csv", "challenge.toml", "baseline.csv", "README.md", "public",
                 "public/../secret/labels.csv", "public/missing.csv"]:  # fmt: skip
        assert client.get(base + name).status_code == 404, name
    assert Path(TINY / "secret").is_dir()  # the refusals above refused something that is there


@pytest.mark.parametrize(
    ("language", "words"), [("en", "are under"), ("ko", "이벤트</a>에 있습니다.")]
)
def test_a_judge_without_courses_is_pointed_to_the_events(language, words):
    """judge1 and mentor1 signed in to "You are not in any course yet" and nothing else."""
    world = contest_world(f"walk6-home-{language}")
    page = _page(world["judge"], reverse("home"), language)
    assert 'id="events-hint"' in page and words in page
    assert f'href="{reverse("event-list")}"' in page
