"""A launch that finds the hub's spawn queue full (429) asks again as soon as a spawn of this
process ends, or after the hub's Retry-After; never after a long backoff, and no wake-up is lost.
"""

from __future__ import annotations

import threading

import pytest
import requests

from compute import runner, services
from compute.hub import HubError, _retry_after

# Far longer than any test may take: a launch still waiting this long lost its wake-up.
FOREVER_S = 3600.0


class QueueFullOnce:
    """A hub whose spawn queue is full at the first start request; `on_refusal` runs just before
    that 429 is answered (what happens meanwhile elsewhere)."""

    def __init__(self, retry_after: float | None, on_refusal=lambda: None) -> None:
        self.retry_after = retry_after
        self.on_refusal = on_refusal
        self.starts: list[dict] = []

    def ensure_account(self, name: str) -> None:
        pass

    def sync_team_groups(self, name: str, groups: set[str]) -> None:
        pass

    def start(self, name: str, options: dict) -> int:
        self.starts.append(options)
        if len(self.starts) == 1:
            self.on_refusal()
            raise HubError("Too many users trying to log in right now.", 429, self.retry_after)
        return 202


def _start_in_thread(backend) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(
        target=lambda: result.append(
            services._start_when_free(backend, "stud", {"profile": "p", "role": "student"})
        ),
        daemon=True,
    )
    thread.start()
    return thread, result


@pytest.fixture
def long_waits(settings, monkeypatch):
    settings.KC_SPAWN_TIMEOUT_S = 2 * FOREVER_S
    monkeypatch.setattr(services, "MAX_QUEUE_WAIT_S", FOREVER_S)


def test_a_spawn_that_ends_while_the_hub_says_429_is_not_missed(long_waits):
    """The spawn ends between the hub's 429 and the launch's wait: it still asks again at once."""
    backend = QueueFullOnce(retry_after=FOREVER_S, on_refusal=runner.spawn_slots.ring)
    thread, result = _start_in_thread(backend)
    thread.join(60)
    assert not thread.is_alive(), "the launch slept through a freed place in the spawn queue"
    assert result == [202] and len(backend.starts) == 2


def test_a_spawn_ending_later_wakes_a_queued_launch(long_waits):
    refused = threading.Event()
    backend = QueueFullOnce(retry_after=FOREVER_S, on_refusal=refused.set)
    thread, result = _start_in_thread(backend)
    assert refused.wait(60)
    runner.spawn_slots.ring()  # a spawn this process followed has ended (ready or failed)
    thread.join(60)
    assert not thread.is_alive() and result == [202]


def test_without_news_the_hubs_retry_after_is_followed(settings, monkeypatch):
    settings.KC_SPAWN_TIMEOUT_S = 2 * FOREVER_S
    waits: list[float] = []
    monkeypatch.setattr(runner.spawn_slots, "wait", lambda seen, timeout: waits.append(timeout))
    backend = QueueFullOnce(retry_after=3)
    assert services._start_when_free(backend, "stud", {"profile": "p"}) == 202
    assert waits == [3]
    # JupyterHub's default Retry-After (30-60 s) is cut to the site's bound.
    backend = QueueFullOnce(retry_after=45)
    services._start_when_free(backend, "stud", {"profile": "p"})
    assert waits[-1] == services.MAX_QUEUE_WAIT_S < 45


def test_the_hub_clients_429_carries_retry_after():
    answer = requests.Response()
    answer.headers["Retry-After"] = "3"
    assert _retry_after(answer) == 3.0
    del answer.headers["Retry-After"]
    assert _retry_after(answer) is None


def test_a_beacon_rung_before_the_wait_is_not_lost():
    beacon = runner.Beacon()
    seen = beacon.mark()
    beacon.ring()
    assert beacon.wait(seen, FOREVER_S) is True
    assert beacon.wait(beacon.mark(), 0.01) is False
