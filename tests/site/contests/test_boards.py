"""Boards are rows written when scores land: best per team, baselines, flags, freeze, reveal."""

from datetime import timedelta

import pytest
from contests import boards, services
from contests.models import BoardRow, Entry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.site.contests.world import contest_world, run_to_result, scored
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def hand_in(world, who, public, private=None, **extra):
    entry = services.submit_entry(world["challenge"], world[who], CSV, "p.csv")
    run_to_result(entry.pk, scored(public, private, **extra))
    entry.refresh_from_db()
    return entry


def names(challenge, board="public", live=True):
    challenge.refresh_from_db()
    return [(r.rank, r.name, r.score) for r in boards.board_rows(challenge, board, live)]


def test_best_entry_per_team_with_the_baseline_shown_unranked():
    world = contest_world()
    challenge = world["challenge"]
    baseline = Entry.objects.get(challenge=challenge, is_baseline=True)
    run_to_result(baseline.pk, scored(0.5))
    hand_in(world, "a1", 0.6)
    hand_in(world, "a2", 0.9, 0.4)
    hand_in(world, "b1", 0.7, 0.95)
    hand_in(world, "b1", 0.2)
    assert names(challenge) == [(1, "Alpha", 0.9), (2, "Bravo", 0.7), (None, "Baseline", 0.5)]
    assert names(challenge, "private") == [
        (1, "Bravo", 0.95),
        (2, "Alpha", 0.6),
        (None, "Baseline", 0.5),
    ]
    row = BoardRow.objects.get(challenge=challenge, board="public", team=world["team_a"])
    assert row.entry_count == 2


def test_a_too_fast_entry_is_shown_to_organizers_not_ranked_until_accepted():
    from contests.selectors import flagged_entries

    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    fast = hand_in(world, "b1", 0.99, flags=["too-fast"])
    assert [n for _r, n, _s in names(challenge)] == ["Alpha", "Bravo"]
    assert names(challenge)[1][2] is None  # Bravo stands with no ranked score
    assert flagged_entries(challenge) == [fast]
    services.accept_flagged(fast)
    assert names(challenge)[0] == (1, "Bravo", 0.99)


def test_freeze_stops_others_scores_but_a_team_sees_its_own_and_reveal_ends_it():
    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    hand_in(world, "b1", 0.5)
    services.set_freeze(challenge, timezone.now() - timedelta(seconds=1))
    hand_in(world, "b1", 0.9)  # after the freeze
    hand_in(world, "solo", 0.8)  # a first entry after the freeze
    frozen = names(challenge, live=False)
    assert frozen == [(1, "Alpha", 0.6), (2, "Bravo", 0.5)]
    assert names(challenge, live=True)[0] == (1, "Bravo", 0.9)

    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    client = Client()
    client.force_login(world["b2"])
    body = client.get(page).content.decode()
    assert 'id="own-row"' in body and "0.9000" in body and "The board froze" in body
    assert body.index("Alpha") < body.index("Bravo")  # the frozen order for others
    organizer = Client()
    organizer.force_login(world["organizer"])
    assert "0.900" in organizer.get(page).content.decode()
    assert organizer.get(page + "?board=private").status_code == 200
    assert client.get(page + "?board=private").status_code == 403
    anonymous = Client().get(page).content.decode()
    assert "0.900" not in anonymous and "Alpha" in anonymous

    services.reveal_private(challenge)
    assert client.get(page + "?board=private").status_code == 200
    assert "0.900" in Client().get(page).content.decode()  # revealed: the freeze is over


def test_the_board_page_reads_one_query_of_rows_and_the_live_fragment_answers_204():
    world = contest_world()
    challenge = world["challenge"]
    for who in ("a1", "b1", "solo"):
        hand_in(world, who, 0.5)
    challenge.refresh_from_db()
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    client = Client()
    client.get(page)  # fill the cache
    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    sql = [q["sql"] for q in queries.captured_queries]
    assert any("contests_challenge" in q for q in sql)  # the page did ask the database
    assert not [q for q in sql if "contests_boardrow" in q]  # but never for the rows
    live = reverse("challenge-board-live", args=[world["event"].slug, challenge.slug])
    unchanged = client.get(live, {"board": "public", "v": f"{challenge.board_version}-1"})
    assert unchanged.status_code == 204
    hand_in(world, "b2", 0.99)
    changed = client.get(live, {"board": "public", "v": f"{challenge.board_version}-1"})
    assert changed.status_code == 200 and "0.9900" in changed.content.decode()
    data = client.get(reverse("challenge-board-json", args=[world["event"].slug, challenge.slug]))
    rows = data.json()["rows"]
    assert rows[0]["name"] == "Bravo" and rows[0]["rank"] == 1


def test_correctness_boards_say_so_and_csv_is_for_organizers():
    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 1.0, ranked_by="correctness")
    challenge.refresh_from_db()
    assert challenge.ranked_by == "correctness"
    page = reverse("challenge-board", args=[world["event"].slug, challenge.slug])
    assert "Ranked by correctness only" in Client().get(page).content.decode()
    csv_url = reverse("challenge-board-csv", args=[world["event"].slug, challenge.slug])
    organizer = Client()
    organizer.force_login(world["organizer"])
    lines = organizer.get(csv_url).content.decode().splitlines()
    assert lines[0].startswith("board,rank,name,score") and "public,1,Alpha,1.0" in lines[1]
    member = Client()
    member.force_login(world["a1"])
    assert member.get(csv_url).status_code == 403


def test_rescoring_keeps_old_scores_until_new_ones_land_and_shows_progress():
    from contests.selectors import rescore_progress

    world = contest_world()
    challenge = world["challenge"]
    entry = hand_in(world, "a1", 0.6)
    batch = services.rescore(challenge, Entry.objects.filter(pk=entry.pk))
    assert rescore_progress(challenge)[0]["done"] == 0
    assert names(challenge)[0][2] == 0.6  # still standing while queued
    run_to_result(entry.pk, scored(0.65))
    assert rescore_progress(challenge)[0] == {"batch": batch, "done": 1, "percent": 100}
    assert names(challenge)[0][2] == 0.65


def test_an_organizer_switches_the_private_board_to_final_entries():
    world = contest_world()
    challenge = world["challenge"]
    best = hand_in(world, "a1", 0.9, 0.5)
    marked = hand_in(world, "a1", 0.6, 0.7)
    Entry.objects.filter(pk=best.pk).update(is_final=False)
    Entry.objects.filter(pk=marked.pk).update(is_final=True)
    assert names(challenge, "private")[0] == (1, "Alpha", 0.7)  # best: the best private
    organizer = Client()
    organizer.force_login(world["organizer"])
    url = reverse("challenge-settings", args=[world["event"].slug, challenge.slug])
    fields = {"quota_per_day": 4, "quota_total": 2, "selection": "final", "max_final": 1}
    refused = organizer.post(url, fields)
    assert refused.status_code == 200 and "at least the daily quota" in refused.content.decode()
    fields["quota_total"] = 20
    assert organizer.post(url, {**fields, "closes_at": "2099-01-02T03:04"}).status_code == 302
    challenge.refresh_from_db()
    assert (challenge.quota_per_day, challenge.selection, challenge.public_board) == (
        4,
        "final",
        False,
    )
    assert challenge.closes_at.isoformat().startswith("2099-01-01T18:04")  # Asia/Seoul, in UTC
    # Still the marked entry's 0.7: now because it is the one marked final.
    Entry.objects.filter(pk=marked.pk).update(is_final=False)
    Entry.objects.filter(pk=best.pk).update(is_final=True)
    services.change_settings(challenge, {"selection": "final"})
    assert names(challenge, "private")[0] == (1, "Alpha", 0.5)


def test_the_baseline_is_named_in_the_reader_language():
    # The row stores the name the scoring worker wrote (in its language); the table names the
    # baseline in the reader's, each language's table cached apart.
    from accounts.models import User

    world = contest_world()
    challenge = world["challenge"]
    run_to_result(Entry.objects.get(challenge=challenge, is_baseline=True).pk, scored(0.5))
    url = reverse("challenge-board", args=[challenge.event.slug, challenge.slug])
    client = Client()
    client.force_login(world["a1"])
    assert "<em>Baseline</em>" in client.get(url).content.decode()
    User.objects.filter(pk=world["a1"].pk).update(language="ko")
    page = client.get(url).content.decode()
    assert "<em>기준선</em>" in page and "<em>Baseline</em>" not in page
