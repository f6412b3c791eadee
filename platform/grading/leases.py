"""A grading worker's hold on a submission: a short lease, renewed while the worker lives.

A worker killed mid-grade cannot give its lease back, so the lease must run out before another
worker may take the job. A lease long enough for the slowest notebook (the old default, about
190 s) made a killed worker's student wait minutes; a short lease renewed by a heartbeat thread
lets the recovery sweep act within about one lease. Each claim increments `attempts`, which
fences: only the holder of the latest claim may write the result, so a worker that lost its
lease (stalled, or presumed dead) can never grade a submission a second time.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from grading.models import Submission
from kernelcamp.workers import LeaseHeartbeat

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


class Heartbeat(LeaseHeartbeat):
    """Renews the submission's claim every third of the lease until the block ends."""

    def __init__(self, submission_id: int, attempt: int) -> None:
        super().__init__(
            lambda: renew(submission_id, attempt), lease_seconds, name=f"lease-{submission_id}"
        )
