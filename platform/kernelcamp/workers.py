"""What the grading and the scoring workers share: a lease heartbeat, and django-tasks-db's
db_worker run beside a recovery sweep.

db_worker alone never runs a task again once its worker died mid-task, so both kinds of work
hold a lease instead: a heartbeat thread renews it while the worker lives, and a sweep puts back
what a dead worker left once its lease ran out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Self

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections, connection

log = logging.getLogger(__name__)


class LeaseHeartbeat:
    """Renews a claim every third of the lease until the block ends.

    `renew` answers False once the claim was superseded (the result will be discarded), which
    ends the beat; an exception (a busy database) is logged and retried at the next beat.
    """

    def __init__(
        self, renew: Callable[[], bool], lease_seconds: Callable[[], float], name: str
    ) -> None:
        self._renew, self._lease_seconds, self._name = renew, lease_seconds, name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self._lease_seconds() / 3):
                try:
                    if not self._renew():
                        return
                except Exception:  # a busy database: try again at the next beat
                    log.warning("lease renewal of %s failed", self._name, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()


def run_db_worker_with_recovery(
    recover: Callable[[], Any],
    *,
    sweep_name: str,
    report_error: Callable[[str], Any],
    **db_worker_options: Any,
) -> None:
    """Recover once, then run `db_worker` with `db_worker_options` while a daemon thread
    recovers again every KC_GRADING_SWEEP_SECONDS; a failed sweep is reported, never fatal."""
    stop = threading.Event()

    def sweep() -> None:
        while not stop.wait(settings.KC_GRADING_SWEEP_SECONDS):
            try:
                recover()
            except Exception as exc:  # a sweep failure must not stop the worker
                report_error(f"recovery sweep failed: {exc}")
            finally:
                close_old_connections()

    recover()
    threading.Thread(target=sweep, name=sweep_name, daemon=True).start()
    try:
        call_command("db_worker", startup_delay=False, **db_worker_options)
    finally:
        stop.set()
