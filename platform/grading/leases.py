"""A grading worker's hold on a submission: a short lease, renewed while the worker lives.

A worker killed mid-grade cannot give its lease back, so the lease must run out before another
worker may take the job. A lease long enough for the slowest notebook (the old default, about
190 s) made a killed worker's student wait minutes; a short lease renewed by a heartbeat thread
lets the recovery sweep act within about one lease. Each claim increments `attempts`, which
fences: only the holder of the latest claim may write the result, so a worker that lost its
lease (stalled, or presumed dead) can never grade a submission a second time.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from grading.models import Submission

log = logging.getLogger(__name__)

#: Without KC_GRADING_LEASE_SECONDS: how long a claim holds without a heartbeat.
DEFAULT_LEASE_SECONDS = 60.0


def lease_seconds() -> float:
    if settings.KC_GRADING_LEASE_SECONDS:
        return float(settings.KC_GRADING_LEASE_SECONDS)
    return DEFAULT_LEASE_SECONDS


def claim(submission_id: int, force: bool) -> int | None:
    """Take the submission for this worker: the claim's attempt number, or None when someone
    else holds a live lease (or it is already graded and this is not a regrade)."""
    now = timezone.now()
    claimable = Q(status=Submission.Status.QUEUED) | Q(
        status=Submission.Status.RUNNING, lease_expires_at__lt=now
    )
    if force:
        claimable |= Q(status__in=[Submission.Status.GRADED, Submission.Status.FAILED])
    updated = (
        Submission.objects.filter(pk=submission_id)
        .filter(claimable)
        .update(
            status=Submission.Status.RUNNING,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=F("attempts") + 1,
        )
    )
    if updated != 1:
        return None
    return Submission.objects.values_list("attempts", flat=True).get(pk=submission_id)


def still_held(submission_id: int, attempt: int):
    """The submission row, locked, while this claim is the latest; else an empty queryset."""
    return Submission.objects.select_for_update().filter(
        pk=submission_id, attempts=attempt, status=Submission.Status.RUNNING
    )


def renew(submission_id: int, attempt: int) -> bool:
    return (
        Submission.objects.filter(
            pk=submission_id, attempts=attempt, status=Submission.Status.RUNNING
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds()))
        == 1
    )


class Heartbeat:
    """Renews a claim every third of the lease until the block ends."""

    def __init__(self, submission_id: int, attempt: int) -> None:
        self.submission_id, self.attempt = submission_id, attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"lease-{submission_id}", daemon=True
        )

    def _beat(self) -> None:
        try:
            while not self._stop.wait(lease_seconds() / 3):
                try:
                    if not renew(self.submission_id, self.attempt):
                        return  # superseded: the result will be discarded
                except Exception:  # a busy database: try again at the next beat
                    log.warning("lease renewal of %s failed", self.submission_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
