"""Worker side of grading: grade a claimed submission and record its one grade.

Runs in `manage.py grading_worker` (the task body, `grading.tasks.grade_submission`); imports
neither the web-side services nor the tasks module, so the task can import it without a loop.
Leases live in `grading.leases`, recovery of a dead worker's jobs in `grading.services_recovery`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from grading import leases
from grading.models import CellScore, Grade, Review, Submission
from learning.models import Assignment
from learning.selectors import due_at_for
from learning.services.cohorts import late_penalty_percent

log = logging.getLogger(__name__)

#: grader.result.SKIPPED_ON_SIMULATOR, without importing the grader into every web process.
SKIPPED_ON_SIMULATOR = "skipped-on-simulator"


def grading_limits():
    from grader import Limits

    return Limits(
        notebook_timeout=settings.KC_GRADING_NOTEBOOK_TIMEOUT,
        cell_timeout=settings.KC_GRADING_CELL_TIMEOUT,
    )


def grade_now(submission_id: int, source_assignment_id: int | None = None) -> str:
    """The body of the grading task. Safe to run twice: one submission has one grade."""
    import grader
    from grader.source import read_notebook

    regrade = source_assignment_id is not None
    attempt = leases.claim(submission_id, force=regrade)
    if attempt is None:
        return "skipped"
    submission = Submission.objects.select_related("assignment", "cohort", "student").get(
        pk=submission_id
    )
    source_assignment = (
        Assignment.objects.get(pk=source_assignment_id) if regrade else submission.assignment
    )
    try:
        source = read_notebook(
            source_assignment.source_notebook.encode(), source_assignment.notebook_path
        )
        with leases.Heartbeat(submission_id, attempt):
            result = grader.grade(
                source,
                bytes(submission.notebook),
                grading_limits(),
                settings.KC_GRADING_DEVICE,
                sandbox=settings.KC_GRADING_SANDBOX,
                sandbox_options=settings.KC_GRADING_SANDBOX_OPTIONS,
            )
    except Exception as exc:  # the grader itself broke: keep the submission, say why
        log.exception("grading submission %s failed", submission_id)
        Submission.objects.filter(pk=submission_id, attempts=attempt).update(
            status=Submission.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            lease_expires_at=None,
        )
        return "failed"
    if record_result(submission, source_assignment, result, attempt=attempt) is None:
        log.warning(
            "submission %s: attempt %s lost its lease; result discarded", submission_id, attempt
        )
        return "superseded"
    return "graded"


def record_result(
    submission: Submission, source_assignment: Assignment, result, attempt: int | None = None
) -> Grade | None:
    """Write a `grader.GradeResult` as the submission's one grade, its cells and, where points are
    held or the run flagged, a pending review; all in one transaction.

    With `attempt`, only while that claim is still the latest (else None, nothing written): a
    worker that lost its lease never writes over the grade of the worker that took over.
    """
    due_at = due_at_for(submission.cohort, submission.student, submission.assignment.slug)
    penalty = late_penalty_percent(submission.cohort, due_at, submission.submitted_at)
    with transaction.atomic():
        if attempt is not None and not leases.still_held(submission.pk, attempt).exists():
            return None
        # One rule for GPU-only cells everywhere: a cell graded where there is no GPU stays in
        # the maximum and waits for a GPU grade (earned by nobody yet), on every page and in CSV.
        waiting_gpu = sum(
            c.max_points for c in result.cells if not c.counted and c.status == SKIPPED_ON_SIMULATOR
        )
        grade, _created = Grade.objects.update_or_create(
            submission=submission,
            defaults={
                "graded_against": source_assignment,
                "raw_score": result.score,
                "max_score": result.max_score + waiting_gpu,
                "waiting_gpu_points": waiting_gpu,
                "late_penalty_percent": penalty,
                "score": round(result.score * (1 - penalty / 100), 4),
                "device": result.device,
                "flags": list(result.flags),
                "reasons": list(result.reasons),
                "feedback_html": result.feedback_html,
                "log": "\n".join(result.log)[-20000:],
                "duration_s": result.duration_s,
                "held_points": getattr(result, "held_points", 0.0),
            },
        )
        grade.cells.all().delete()
        CellScore.objects.bulk_create(
            CellScore(
                grade=grade,
                cell_id=cell.grade_id,
                points=cell.points,
                max_points=cell.max_points,
                status=cell.status,
                message=cell.message[:10000],
                counted=cell.counted,
                held=getattr(cell, "held", False),
            )
            for cell in result.cells
        )
        _queue_for_review(submission, grade)
        Submission.objects.filter(pk=submission.pk).update(
            status=Submission.Status.GRADED, lease_expires_at=None, error="", regrade_against=None
        )
    return grade


#: Flags that describe what happened without casting doubt on the points: they are shown, but
#: alone they do not put a submission in the review queue. Any other flag (the grader's policy
#: and integrity flags, and any flag added later) does.
INFORMATIONAL_FLAGS = frozenset(
    {
        "output-truncated",
        "kernel-killed",
        "network-not-isolated",
        "invalid-submission",
        "duplicate-cell",  # a copy-pasted answer cell: the first counts, as nbgrader intends
    }
)


def needs_review(grade: Grade) -> bool:
    if "invalid-submission" in grade.flags:
        return False  # never counts; nothing to decide
    return grade.held_points > 0 or any(f not in INFORMATIONAL_FLAGS for f in grade.flags)


def _queue_for_review(submission: Submission, grade: Grade) -> None:
    """A (re)grade that holds points or raises doubt waits for a person; a regrade reopens a
    decided review, since the decision was about other points."""
    if needs_review(grade):
        Review.objects.update_or_create(
            submission=submission,
            defaults={
                "decision": Review.Decision.PENDING,
                "score": None,
                "decided_by": None,
                "decided_at": None,
            },
        )
    else:
        Review.objects.filter(submission=submission).delete()
