"""The board JSON answers a poller's If-None-Match with 304 while its body would be the same,
and never hides a change: a landed score, a freeze, a late score during the freeze and the
reveal (issue 12, item 6, round 2)."""

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


class Poller:
    """A browser's cache: sends the last ETag, keeps the last body, and checks each 304 against
    the body a request without If-None-Match gets at the same moment."""

    def __init__(self, client: Client, url: str) -> None:
        self.client, self.url = client, url
        self.etag, self.body = None, None
        self.not_modified = 0

    def poll(self) -> bytes:
        headers = {"HTTP_IF_NONE_MATCH": self.etag} if self.etag else {}
        response = self.client.get(self.url, **headers)
        fresh = self.client.get(self.url)
        assert fresh.status_code == 200 and fresh["ETag"] == response["ETag"]
        assert "no-cache" in response["Cache-Control"]
        if response.status_code == 304:
            self.not_modified += 1
            assert response.content == b""
            assert fresh.content == self.body, "a 304 hid a change"
        else:
            assert response.status_code == 200
            self.body = response.content
        self.etag = response["ETag"]
        return self.body


def test_a_poller_gets_304_until_the_board_changes():
    world = contest_world()
    challenge = world["challenge"]
    hand_in(world, "a1", 0.6)
    url = reverse("challenge-board-json", args=[world["event"].slug, challenge.slug])
    pollers = {}
    for name in ("anonymous", "a2", "b2", "organizer"):
        client = Client()
        if name != "anonymous":
            client.force_login(world[name])
        pollers[name] = Poller(client, url)

    def poll_all() -> dict[str, bytes]:
        return {name: poller.poll() for name, poller in pollers.items()}

    first = poll_all()
    assert poll_all() == first
    assert all(p.not_modified == 1 for p in pollers.values())

    hand_in(world, "b1", 0.8)  # a landed score
    after_score = poll_all()
    assert all(b"0.8" in body and after_score[n] != first[n] for n, body in after_score.items())

    services.set_freeze(challenge, timezone.now() - timedelta(seconds=1))
    frozen = poll_all()
    assert b'"frozen": true' in frozen["anonymous"]
    assert b'"frozen": false' in frozen["organizer"]

    hand_in(world, "a1", 0.95)  # lands during the freeze: organizers see it, others do not
    late = poll_all()
    assert b"0.95" in late["organizer"] and b"0.95" not in late["anonymous"]

    services.reveal_private(challenge)
    revealed = poll_all()
    assert all(b"0.95" in body for body in revealed.values())
