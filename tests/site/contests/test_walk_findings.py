"""Holes found by using the demo hackathon as its users will (notes/s4/walk-findings.md)."""

from datetime import timedelta

import pytest
from contests import services
from contests.models import BoardRow, Challenge
from django.utils import timezone

from tests.site.contests.world import contest_world, run_to_result, scored
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db

CSV = b"id,label\n1,0\n"


def test_final_marks_cannot_change_once_the_challenge_has_closed():
    """After the close (and after the reveal shows each entry's private score) a team must not
    pick, by marking it final, whichever entry did best on the secret rows."""
    world = contest_world("walk-final")
    challenge = world["challenge"]
    Challenge.objects.filter(pk=challenge.pk).update(selection="final", max_final=1)
    challenge.refresh_from_db()
    public_best = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    private_best = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    run_to_result(public_best.pk, scored(0.9, 0.6))
    run_to_result(private_best.pk, scored(0.7, 0.8))
    services.set_final(public_best, True)
    Challenge.objects.filter(pk=challenge.pk).update(
        closes_at=timezone.now() - timedelta(minutes=1)
    )
    challenge.refresh_from_db()
    services.reveal_private(challenge)
    public_best.refresh_from_db()
    private_best.refresh_from_db()
    with pytest.raises(services.EntryError):
        services.set_final(public_best, False)
    with pytest.raises(services.EntryError):
        services.set_final(private_best, True)
    competitor = f"t{world['team_a'].pk}"
    row = BoardRow.objects.get(challenge=challenge, board="private", competitor=competitor)
    assert row.score == 0.6


def test_a_revealed_challenge_takes_no_entries_and_no_final_marks():
    """Revealed before the close: each entry's private score now shows, so a new entry or a
    changed final mark would be chosen by the secret rows."""
    world = contest_world("walk-reveal")
    challenge = world["challenge"]
    entry = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    run_to_result(entry.pk, scored(0.9, 0.6))
    services.reveal_private(challenge)
    assert not services.is_open(challenge)
    with pytest.raises(services.EntryError):
        services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    entry.refresh_from_db()
    with pytest.raises(services.EntryError):
        services.set_final(entry, True)
    services.reveal_private(challenge, reveal=False)
    # Hidden again (to rescore a mistake, say), entries stay closed: everyone has seen each
    # entry's private score, and the close moved to the reveal.
    assert not services.is_open(challenge) and challenge.closes_at is not None
    with pytest.raises(services.EntryError):
        services.submit_entry(challenge, world["a1"], CSV, "p.csv")


def test_the_page_offers_no_final_mark_once_closed():
    from django.test import Client
    from django.urls import reverse

    world = contest_world("walk-button")
    challenge = world["challenge"]
    entry = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    run_to_result(entry.pk, scored(0.9, 0.6))
    client = Client()
    client.force_login(world["a1"])
    url = reverse("challenge-mine", args=[world["event"].slug, challenge.slug])
    assert reverse("entry-final", args=[entry.pk]) in client.get(url).content.decode()
    services.reveal_private(challenge)
    assert reverse("entry-final", args=[entry.pk]) not in client.get(url).content.decode()


def test_a_member_who_left_the_team_no_longer_marks_its_entries_final():
    from django.test import Client
    from django.urls import reverse

    from teams.services import split_team

    world = contest_world("walk-moved")
    challenge = world["challenge"]
    Challenge.objects.filter(pk=challenge.pk).update(selection="final", max_final=1)
    entry = services.submit_entry(challenge, world["a2"], CSV, "p.csv")
    run_to_result(entry.pk, scored(0.9, 0.6))
    # A member of a team that has handed in cannot leave it (test_quota_attacks): an organizer
    # splits them off instead.
    split_team(world["team_a"], [world["a2"].pk], "Split off")
    moved = Client()
    moved.force_login(world["a2"])
    url = reverse("entry-final", args=[entry.pk])
    assert moved.post(url, {"final": "1"}).status_code == 403
    entry.refresh_from_db()
    assert not entry.is_final
    stayed = Client()
    stayed.force_login(world["a1"])
    assert stayed.post(url, {"final": "1"}).status_code == 302
    entry.refresh_from_db()
    assert entry.is_final


def test_the_private_board_is_not_revealed_while_a_rescore_runs():
    from contests.models import Entry

    world = contest_world("walk-rescore")
    challenge = world["challenge"]
    entry = services.submit_entry(challenge, world["a1"], CSV, "p.csv")
    run_to_result(entry.pk, scored(0.9, 0.6))
    services.rescore(challenge, Entry.objects.filter(pk=entry.pk))
    with pytest.raises(services.EntryError, match="still being rescored"):
        services.reveal_private(challenge)
    challenge.refresh_from_db()
    assert challenge.private_revealed_at is None and services.is_open(challenge)
    run_to_result(entry.pk, scored(0.8, 0.5))
    services.reveal_private(challenge)
    assert challenge.private_revealed_at is not None
