"""Web side of grading: submit, regrade, override, release hidden tests, decide reviews.

Grading itself (the task body) is `grading.services_worker`, recovery `grading.services_recovery`,
grading by hand `grading.services_manual`. This module queues work through `grading.tasks` and
the tasks module never imports it back.
"""

from __future__ import annotations

import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import record
from grading.models import (
    AssignmentPolicy,
    CountingRule,
    GradeOverride,
    HiddenTestRelease,
    RegradeBatch,
    Review,
    Submission,
)
from grading.tasks import enqueue_grading
from grading.uploads import InvalidUpload, check_upload
from learning.models import Assignment, Cohort

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    pass


# Worker-side names kept importable from here for callers written before the split (tests and
# helpers); new code imports grading.services_worker / grading.services_recovery.
from grading.services_recovery import recover_interrupted_grading  # noqa: E402, F401
from grading.services_worker import grade_now, record_result  # noqa: E402, F401


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
