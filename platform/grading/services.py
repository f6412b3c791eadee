"""Write paths of grading: submit, grade (the task body), recover, regrade, override, release."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record
from grading import leases
from grading.models import (
    AssignmentPolicy,
    CellScore,
    CountingRule,
    Grade,
    GradeOverride,
    HiddenTestRelease,
    RegradeBatch,
    Review,
    Submission,
)
from grading.uploads import InvalidUpload, check_upload
from learning.models import Assignment, Cohort
from learning.selectors import due_at_for
from learning.services.cohorts import late_penalty_percent

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    pass


def grading_limits():
    from grader import Limits

    return Limits(
        notebook_timeout=settings.KC_GRADING_NOTEBOOK_TIMEOUT,
        cell_timeout=settings.KC_GRADING_CELL_TIMEOUT,
    )


def queue_for(assignment: Assignment) -> str:
    """GPU work goes to GPU workers only where the deployment has them."""
    if settings.KC_GRADING_GPU_QUEUE and assignment.gpu_profile.startswith("gpu"):
        return "grading-gpu"
    return "grading"


def submit(
    cohort: Cohort,
    student,
    assignment_slug: str,
    data: bytes,
    *,
    origin: str = Submission.Origin.UPLOAD,
    filename: str = "",
) -> Submission:
    """Check the file is a notebook of the assignment, store it (bytes, hash, arrival time), then
    queue its grading. A refused file is stored nowhere, so it never counts."""
    assignment = cohort.version.assignments.filter(slug=assignment_slug).first()
    if assignment is None:
        raise SubmissionError(
            _("This cohort has no assignment %(slug)s.") % {"slug": assignment_slug}
        )
    try:
        check_upload(data, assignment.release_notebook, assignment.title)
    except InvalidUpload as exc:
        raise SubmissionError(str(exc)) from None
    with transaction.atomic():
        submission = Submission.objects.create(
            cohort=cohort,
            assignment=assignment,
            student=student,
            notebook=data,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            filename=filename[:255],
            origin=origin,
            submitted_at=timezone.now(),
        )
        transaction.on_commit(lambda: enqueue_grading(submission.pk))
    return submission


def enqueue_grading(submission_id: int, source_assignment_id: int | None = None) -> None:
    from grading.tasks import grade_submission

    submission = Submission.objects.select_related("assignment").get(pk=submission_id)
    task = grade_submission.using(queue_name=queue_for(submission.assignment))
    result = task.enqueue(submission_id, source_assignment_id)
    Submission.objects.filter(pk=submission_id).update(task_id=str(result.id))


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
        grade, _created = Grade.objects.update_or_create(
            submission=submission,
            defaults={
                "graded_against": source_assignment,
                "raw_score": result.score,
                "max_score": result.max_score,
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


def decide_review(review: Review, decision: str, comment: str, by, score: float | None = None):
    """Release the held points, set a new score, or score zero; always with a comment."""
    grade = review.submission.grade
    penalty = 1 - grade.late_penalty_percent / 100
    if not comment.strip():
        raise SubmissionError(_("A review decision needs a comment for the student."))
    if decision == Review.Decision.RELEASED:
        final = round((grade.raw_score + grade.held_points) * penalty, 4)
    elif decision == Review.Decision.ZEROED:
        final = 0.0
    elif decision == Review.Decision.ADJUSTED:
        if score is None or not 0 <= score <= grade.max_score:
            raise SubmissionError(
                _("The score must be between 0 and %(max)g.") % {"max": grade.max_score}
            )
        final = float(score)
    else:
        raise SubmissionError(_("Unknown decision."))
    before = {"decision": review.decision, "score": review.score}
    review.decision = decision
    review.score = final
    review.comment = comment.strip()
    review.decided_by = by
    review.decided_at = timezone.now()
    review.save()
    record(
        by,
        "grading.review_decided",
        review.submission,
        before,
        {"decision": decision, "score": final, "comment": review.comment},
        subject=review.submission.student,
    )
    return review


def set_counting_rule(assignment: Assignment, counts: str) -> AssignmentPolicy:
    """Record which valid submission counts (from the manifest's `counts`) when publishing."""
    if counts not in CountingRule.values:
        raise SubmissionError(_("Unknown counting rule %(rule)s.") % {"rule": counts})
    policy, _created = AssignmentPolicy.objects.update_or_create(
        assignment=assignment, defaults={"counts": counts}
    )
    return policy


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


def regrade_assignment(cohort: Cohort, assignment_slug: str, by=None) -> RegradeBatch:
    """Regrade each student's counted submission against the cohort's current version."""
    from grading.selectors import counted_submissions

    assignment = cohort.version.assignments.get(slug=assignment_slug)
    counted = [
        s for s in counted_submissions(cohort).values() if s.assignment.slug == assignment_slug
    ]
    with transaction.atomic():
        batch = RegradeBatch.objects.create(
            cohort=cohort, assignment_slug=assignment_slug, requested_by=by, total=len(counted)
        )
        batch.submissions.set(counted)
        Submission.objects.filter(pk__in=[s.pk for s in counted]).update(regrade_against=assignment)
        Submission.objects.filter(pk__in=[s.pk for s in counted]).exclude(
            status=Submission.Status.RUNNING
        ).update(status=Submission.Status.QUEUED)
        for submission in counted:
            transaction.on_commit(
                lambda sid=submission.pk: enqueue_grading(sid, source_assignment_id=assignment.pk)
            )
        record(
            by,
            "grading.regrade",
            batch,
            None,
            {
                "assignment": assignment_slug,
                "version": assignment.version_id,
                "total": len(counted),
            },
        )
    return batch


def override_grade(
    cohort: Cohort, student, assignment_slug: str, score: float, comment: str, by
) -> GradeOverride:
    assignment = cohort.version.assignments.get(slug=assignment_slug)
    if not comment.strip():
        raise SubmissionError(_("An override needs a comment saying why."))
    if not 0 <= score <= assignment.points:
        raise SubmissionError(
            _("The score must be between 0 and %(max)g.") % {"max": assignment.points}
        )
    previous = GradeOverride.objects.filter(
        cohort=cohort, student=student, assignment_slug=assignment_slug
    ).first()
    override, _created = GradeOverride.objects.update_or_create(
        cohort=cohort,
        student=student,
        assignment_slug=assignment_slug,
        defaults={"score": score, "comment": comment, "by": by},
    )
    record(
        by,
        "grading.override",
        cohort,
        None if previous is None else {"score": previous.score, "comment": previous.comment},
        {"assignment": assignment_slug, "score": score, "comment": comment},
        subject=student,
    )
    return override


def remove_override(cohort: Cohort, student, assignment_slug: str, by=None) -> None:
    previous = GradeOverride.objects.filter(
        cohort=cohort, student=student, assignment_slug=assignment_slug
    ).first()
    if previous is None:
        return
    previous.delete()
    record(
        by,
        "grading.override_removed",
        cohort,
        {"assignment": assignment_slug, "score": previous.score, "comment": previous.comment},
        None,
        subject=student,
    )


def release_hidden_tests(cohort: Cohort, assignment_slug: str, by=None) -> HiddenTestRelease:
    """Show students the hidden tests' code; only once the assignment is due."""
    entry = cohort.schedule.filter(assignment_slug=assignment_slug).first()
    if entry is None or entry.due_at > timezone.now():
        raise SubmissionError(_("Hidden tests can be released only after the due date."))
    release, created = HiddenTestRelease.objects.get_or_create(
        cohort=cohort, assignment_slug=assignment_slug, defaults={"released_by": by}
    )
    if created:
        record(by, "grading.release_hidden_tests", cohort, None, {"assignment": assignment_slug})
    return release
