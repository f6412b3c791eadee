"""The student's feedback in the site's design, and the same page as a file to keep."""

from __future__ import annotations

import base64
import hashlib

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.text import slugify

from accounts.permissions import require
from grading import feedback_offline, feedback_view, selectors, selectors_manual
from grading.models import Submission

#: The base template's language menu submits itself from this inline handler; the page's CSP
#: admits exactly it (by hash) and no other inline script.
_LANGUAGE_HANDLER = "this.form.submit()"
_HANDLER_HASH = (
    "'sha256-"
    + base64.b64encode(hashlib.sha256(_LANGUAGE_HANDLER.encode()).digest()).decode()
    + "'"
)
PAGE_CSP = (
    "default-src 'self'; "
    f"script-src 'self' 'unsafe-hashes' {_HANDLER_HASH}; "
    "style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def _graded_submission(request, pk: int) -> Submission:
    submission = get_object_or_404(
        Submission.objects.select_related(
            "cohort", "assignment", "student", "grade__graded_against", "review"
        ),
        pk=pk,
    )
    require(request.user, "submission.view", submission)
    if getattr(submission, "grade", None) is None:
        raise Http404("not graded yet")
    return submission


def _context(submission: Submission, viewer) -> dict:
    grade = submission.grade
    released = selectors.hidden_tests_released(submission.cohort, submission.assignment.slug)
    document = feedback_view.build(submission, hidden_released=released)
    # Its student sees grades by hand once the instructor released them; who teaches sees them
    # as given (the same rule as the submission page).
    as_student = viewer.pk == submission.student_id
    if as_student:
        manual = selectors_manual.student_manual_grades(submission)
    else:
        manual = {m.cell_id: m for m in submission.manual_grades.all()}
    for cell in document.results:
        cell.manual = manual.get(cell.cell_id)
    score = selectors.effective_score(submission, released_only=as_student)
    review = getattr(submission, "review", None)
    return {
        "submission": submission,
        "grade": grade,
        "score": grade.score if score is None else score,
        "review": review,
        "held_pending": grade.held_points and (review is None or review.decision == "pending"),
        "document": document,
        "has_math": document.has_math,
    }


@login_required
def feedback_page(request, pk: int):
    submission = _graded_submission(request, pk)
    response = render(request, "grading/feedback/page.html", _context(submission, request.user))
    response["Content-Security-Policy"] = PAGE_CSP
    return response


@login_required
def feedback_download(request, pk: int):
    """One HTML file with everything inlined: readable offline, loads nothing."""
    submission = _graded_submission(request, pk)
    context = _context(submission, request.user)
    context["assets"] = feedback_offline.assets(with_math=context["has_math"])
    html = render_to_string("grading/feedback/offline.html", context, request=request)
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    name = slugify(f"{submission.assignment.slug}-{submission.pk}-feedback") or "feedback"
    response["Content-Disposition"] = f'attachment; filename="{name}.html"'
    response["Content-Security-Policy"] = context["assets"]["csp"]
    return response
