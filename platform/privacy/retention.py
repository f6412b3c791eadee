"""Retention: what is kept how long (KC_RETENTION_* settings; 0 keeps forever).

- Submissions older than KC_RETENTION_SUBMISSION_DAYS that do not count toward a grade (earlier
  or worse attempts) are deleted with their grades. The counted submission of each student and
  assignment stays, so gradebooks, averages and regrades do not move.
- Session logs older than KC_RETENTION_SESSION_LOG_DAYS: a stopped session's messages and list of
  delivered files are cleared (its start, stop and charge stay: GPU budgets and usage totals are
  sums over them); finished background-task results (arguments, tracebacks) are deleted; mail
  files under KC_EMAIL_FILE_PATH (set-password links) are deleted.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import record


@dataclass
class RetentionReport:
    submissions_deleted: int = 0
    sessions_cleared: int = 0
    task_results_deleted: int = 0
    mail_files_deleted: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "submissions_deleted": self.submissions_deleted,
            "sessions_cleared": self.sessions_cleared,
            "task_results_deleted": self.task_results_deleted,
            "mail_files_deleted": self.mail_files_deleted,
        }


def _cutoff(days: float, now: datetime.datetime) -> datetime.datetime | None:
    return now - datetime.timedelta(days=days) if days and days > 0 else None


def old_uncounted_submissions(cutoff: datetime.datetime) -> list[int]:
    from grading.models import Submission
    from grading.selectors import counted_submissions
    from learning.models import Cohort

    doomed: list[int] = []
    cohort_ids = Submission.objects.filter(submitted_at__lt=cutoff).values_list(
        "cohort_id", flat=True
    )
    for cohort in Cohort.objects.filter(pk__in=set(cohort_ids)):
        counted = {s.pk for s in counted_submissions(cohort).values()}
        old = Submission.objects.filter(cohort=cohort, submitted_at__lt=cutoff)
        doomed.extend(pk for pk in old.values_list("pk", flat=True) if pk not in counted)
    return doomed


def apply_retention(
    *,
    submission_days: float | None = None,
    session_log_days: float | None = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> RetentionReport:
    """Delete or clear what is past its retention period; `dry_run` only counts."""
    from django_tasks_db.models import DBTaskResult

    from compute.models import HubSession
    from grading.models import Submission

    now = now or timezone.now()
    if submission_days is None:
        submission_days = settings.KC_RETENTION_SUBMISSION_DAYS
    if session_log_days is None:
        session_log_days = settings.KC_RETENTION_SESSION_LOG_DAYS
    report = RetentionReport()
    with transaction.atomic():
        if cutoff := _cutoff(submission_days, now):
            doomed = old_uncounted_submissions(cutoff)
            report.submissions_deleted = len(doomed)
            if not dry_run and doomed:
                Submission.objects.filter(pk__in=doomed).delete()
        if cutoff := _cutoff(session_log_days, now):
            sessions = HubSession.objects.filter(
                status__in=[HubSession.Status.STOPPED, HubSession.Status.FAILED],
                requested_at__lt=cutoff,
            ).exclude(message="", delivered=[])
            tasks = DBTaskResult.objects.filter(
                finished_at__lt=cutoff, status__in=["SUCCESSFUL", "FAILED"]
            )
            report.sessions_cleared = sessions.count()
            report.task_results_deleted = tasks.count()
            if not dry_run:
                sessions.update(message="", delivered=[])
                tasks.delete()
            report.mail_files_deleted = _prune_mail(cutoff, dry_run)
        if not dry_run and any(report.as_dict().values()):
            record(
                None,
                "privacy.retention",
                None,
                {
                    "submission_days": submission_days,
                    "session_log_days": session_log_days,
                },
                report.as_dict(),
            )
    return report


def _prune_mail(cutoff: datetime.datetime, dry_run: bool) -> int:
    folder = getattr(settings, "EMAIL_FILE_PATH", None)
    if not folder or not Path(folder).is_dir():
        return 0
    count = 0
    for path in Path(folder).iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
            count += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    return count
