"""Submission, gradebook and review rules (registered with accounts.permissions from
GradingConfig.ready)."""

from __future__ import annotations

from accounts.permissions import rule
from learning.permissions import INSTRUCTOR, STUDENT, cohort_role, teaches


@rule("submission.create")
def _submission_create(user, cohort_assignment) -> bool:
    cohort, assignment = cohort_assignment
    if cohort_role(user, cohort) != STUDENT:
        return False
    from learning.selectors import is_released

    return is_released(cohort, assignment.slug)


@rule("submission.view")
def _submission_view(user, submission) -> bool:
    return submission.student_id == user.pk or teaches(user, submission.cohort)


@rule("gradebook.view")
def _gradebook_view(user, cohort) -> bool:
    return teaches(user, cohort)


@rule("gradebook.manage")
def _gradebook_manage(user, cohort) -> bool:
    """Overrides, regrades and releasing hidden tests."""
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("review.view")
def _review_view(user, cohort) -> bool:
    """The review queue of held and flagged submissions: TAs read it to prepare decisions."""
    return teaches(user, cohort)


@rule("review.decide")
def _review_decide(user, cohort) -> bool:
    """Releasing held points, adjusting or zeroing changes a grade: the instructor's call."""
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("progress.view")
def _progress_view(user, cohort_student) -> bool:
    """One student's progress across the course: the student themself, or who teaches them."""
    cohort, student = cohort_student
    if student.pk == user.pk:
        return cohort_role(user, cohort) == STUDENT
    return teaches(user, cohort)


@rule("similarity.view")
def _similarity_view(user, cohort) -> bool:
    """Who may have copied whom: instructors only (an accusation, not a TA's working list)."""
    return cohort_role(user, cohort) == INSTRUCTOR


@rule("manual.grade")
def _manual_grade(user, cohort) -> bool:
    """Scores, extra credit and comments by hand: the cohort's instructors and TAs."""
    return teaches(user, cohort)


@rule("manual.release")
def _manual_release(user, cohort) -> bool:
    """Showing the grades by hand to the students: the instructor signs off."""
    return cohort_role(user, cohort) == INSTRUCTOR
