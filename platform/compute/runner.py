"""Hub work off the web request: launches and stops run in a thread pool of the web process.

A web request that waited on the hub could starve the hub's own calls back to the site (OAuth,
userinfo) and would show a false error when it gave up while the hub went on. Instead the request
writes the ledger row and returns; a worker thread talks to the hub and writes the outcome to the
row, which the pages read. If the process dies mid-job, the reconcile task finishes the row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_pid
    import os

    with _lock:
        if _pool is None or _pool_pid != os.getpid():  # a forked worker gets its own pool
            _pool = ThreadPoolExecutor(
                max_workers=settings.KC_SESSION_THREADS, thread_name_prefix="kc-session"
            )
            _pool_pid = os.getpid()
        return _pool


def _run(job: Callable[..., object], args: tuple) -> None:
    try:
        job(*args)
    except Exception:
        log.exception("session job %s%r failed", getattr(job, "__name__", job), args)
    finally:
        connections.close_all()  # this thread's database connections end with the job
        session_news.ring(everyone=True)


def submit(job: Callable[..., object], *args) -> Future | None:
    """Run `job(*args)` in the background (or now, when KC_SESSION_BACKGROUND is off)."""
    if not settings.KC_SESSION_BACKGROUND:
        job(*args)
        return None
    return _executor().submit(_run, job, args)


class Beacon:
    """A wake-up between threads of this process, with no lost wake-ups: a waiter notes the count
    (`mark`) before it looks at what it waits on, and `wait` returns at once if the beacon rang
    since. Another process's events are not seen here, so every wait has a bound."""

    def __init__(self) -> None:
        self._rung = 0
        self._changed = threading.Condition()

    def mark(self) -> int:
        with self._changed:
            return self._rung

    def ring(self, everyone: bool = False) -> None:
        with self._changed:
            self._rung += 1
            if everyone:
                self._changed.notify_all()
            else:
                self._changed.notify()

    def wait(self, seen: int, timeout: float) -> bool:
        """Until the beacon rang since `seen` was noted, or `timeout`; True when it rang."""
        with self._changed:
            return self._changed.wait_for(lambda: self._rung != seen, max(0.0, timeout))


#: Rung (for one waiter) when a spawn this process follows ends: a launch waiting for a place in
#: the hub's spawn queue (its 429) asks again then instead of sleeping out the Retry-After.
spawn_slots = Beacon()
#: Rung (for everyone) when a job of this process got the hub to take a spawn or has written its
#: outcome to a session row: the launch page's event stream looks then, not at its next poll.
session_news = Beacon()
