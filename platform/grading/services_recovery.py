"""Worker side of grading: queue again what a dead worker left (expired leases, lost tasks).

Called by `manage.py grading_worker` at start and every KC_GRADING_SWEEP_SECONDS.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from grading.models import Submission
from grading.tasks import enqueue_grading

log = logging.getLogger(__name__)


def recover_interrupted_grading(stale_queued_after: timedelta = timedelta(minutes=10)) -> list[int]:
    """Queue again what a dead worker left: expired leases, and queued rows whose task is gone."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    requeued = []
    expired = Submission.objects.filter(status=Submission.Status.RUNNING, lease_expires_at__lt=now)
    for submission_id, regrade_against in expired.values_list("pk", "regrade_against"):
        if (
            Submission.objects.filter(
                pk=submission_id, status=Submission.Status.RUNNING, lease_expires_at__lt=now
            ).update(status=Submission.Status.QUEUED, lease_expires_at=None)
            == 1
        ):
            enqueue_grading(submission_id, source_assignment_id=regrade_against)
            requeued.append(submission_id)
    live = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).values_list("id", flat=True)
    live_ids = {str(i) for i in live}
    old_queued = Submission.objects.filter(
        status=Submission.Status.QUEUED, submitted_at__lt=now - stale_queued_after
    )
    for submission_id, task_id, regrade_against in old_queued.values_list(
        "pk", "task_id", "regrade_against"
    ):
        if task_id not in live_ids:
            enqueue_grading(submission_id, source_assignment_id=regrade_against)
            requeued.append(submission_id)
    if requeued:
        log.warning("requeued interrupted gradings: %s", requeued)
    return requeued
