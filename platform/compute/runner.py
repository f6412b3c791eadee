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


def submit(job: Callable[..., object], *args) -> Future | None:
    """Run `job(*args)` in the background (or now, when KC_SESSION_BACKGROUND is off)."""
    if not settings.KC_SESSION_BACKGROUND:
        job(*args)
        return None
    return _executor().submit(_run, job, args)
