"""The review queue: submissions whose points the grader held or whose run it flagged."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from grading import selectors, services
from grading.forms import ReviewDecisionForm
from grading.models import Review
from learning.models import Cohort


@login_required
def review_queue(request, pk: int):
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    require(request.user, "review.view", cohort)
    return render(
        request,
        "grading/review_queue.html",
        {
            "cohort": cohort,
            "reviews": selectors.review_queue(cohort),
            "decided": selectors.decided_reviews(cohort),
        },
    )


def _review(request, pk: int) -> Review:
    review = get_object_or_404(
        Review.objects.select_related(
            "submission__cohort__course",
            "submission__student",
            "submission__assignment",
            "submission__grade__graded_against",
        ),
        pk=pk,
    )
    require(request.user, "review.view", review.submission.cohort)
    return review


@login_required
def review_detail(request, pk: int):
    review = _review(request, pk)
    submission = review.submission
    return render(
        request,
        "grading/review_detail.html",
        {
            "review": review,
            "submission": submission,
            "grade": submission.grade,
            "rows": selectors.code_beside_tests(submission),
            "may_decide": can(request.user, "review.decide", submission.cohort),
            "form": ReviewDecisionForm(),
        },
    )


@login_required
@require_POST
def review_decide(request, pk: int):
    review = _review(request, pk)
    cohort = review.submission.cohort
    require(request.user, "review.decide", cohort)
    form = ReviewDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision and write a comment for the student."))
        return redirect("review-detail", pk=pk)
    data = form.cleaned_data
    try:
        services.decide_review(
            review, data["decision"], data["comment"], request.user, score=data["score"]
        )
    except services.SubmissionError as exc:
        messages.error(request, str(exc))
        return redirect("review-detail", pk=pk)
    messages.success(
        request,
        _("Decision on submission #%(n)d saved; the student sees it now.")
        % {"n": review.submission_id},
    )
    return redirect("review-queue", pk=cohort.pk)
