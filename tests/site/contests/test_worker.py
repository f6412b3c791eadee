"""The real path: a file handed in through the page, scored by the worker calling
`python -m grader score` in a child process, the board updated in the same transaction."""

import pytest
from contests.models import Entry
from contests.scoring import score_next
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.site.contests.world import FIXTURES, contest_world
from tests.site.hackathon import in_english  # noqa: F401  (autouse)

pytestmark = pytest.mark.django_db


def test_hand_in_score_and_board_through_the_harness(settings, tmp_path):
    settings.KC_CONTEST_CACHE_DIR = tmp_path / "cache"
    world = contest_world()
    challenge, event = world["challenge"], world["event"]
    client = Client()
    client.force_login(world["a1"])
    detail = reverse("challenge-detail", args=[event.slug, challenge.slug])
    upload = SimpleUploadedFile("perfect.csv", (FIXTURES / "perfect.csv").read_bytes())
    response = client.post(
        reverse("challenge-enter", args=[event.slug, challenge.slug]), {"file": upload}
    )
    assert response.status_code == 302
    page = client.get(detail).content.decode()
    assert "place 1 in the queue" in page or "place 2 in the queue" in page
    assert "2 of 3 entries left today" in page
    bad = SimpleUploadedFile("bad.csv", b"id,label\n1,0\n1,0\n")
    client.post(reverse("challenge-enter", args=[event.slug, challenge.slug]), {"file": bad})

    assert [score_next() for _ in range(4)] == ["recorded", "recorded", "recorded", "idle"]
    entries = {e.filename: e for e in Entry.objects.filter(challenge=challenge)}
    assert entries["perfect.csv"].status == "scored" and entries["perfect.csv"].public_score == 1.0
    assert entries["baseline.csv"].public_score == 0.5
    assert entries["bad.csv"].status == "rejected" and entries["bad.csv"].reason_code
    board = client.get(reverse("challenge-board", args=[event.slug, challenge.slug]))
    text = board.content.decode()
    assert text.index("Alpha") < text.index("Baseline")
    assert "1.0000" in text and "0.5000" in text
    rejected = client.get(reverse("entry-detail", args=[entries["bad.csv"].pk])).content.decode()
    assert entries["bad.csv"].reason_code in rejected


def test_a_harness_that_gives_no_result_is_the_platforms_fault(settings, tmp_path, monkeypatch):
    from contests import scoring
    from contests.selectors import quota

    settings.KC_CONTEST_CACHE_DIR = tmp_path / "cache"
    world = contest_world()
    Entry.objects.filter(is_baseline=True).delete()
    client = Client()
    client.force_login(world["a1"])
    upload = SimpleUploadedFile("perfect.csv", (FIXTURES / "perfect.csv").read_bytes())
    client.post(
        reverse("challenge-enter", args=[world["event"].slug, world["challenge"].slug]),
        {"file": upload},
    )
    monkeypatch.setattr(scoring.sys, "executable", "/bin/false")
    assert score_next() == "recorded"
    entry = Entry.objects.get(challenge=world["challenge"])
    assert entry.status == "error" and entry.reason_code == "harness-output"
    assert quota(world["challenge"], entry.competitor).left_today == 3
