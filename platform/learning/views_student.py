"""Pages for students: my courses, a cohort's assignments, joining with a code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import can, require
from grading import selectors as grading_selectors
from grading.forms import UploadForm
from learning import selectors
from learning.forms import JoinForm
from learning.models import Cohort
from learning.services.enrolment import EnrolmentError, join_with_code


def home(request):
    if not request.user.is_authenticated:
        return render(request, "learning/welcome.html")
    cohorts = selectors.student_cohorts(request.user)
    return render(
        request,
        "learning/home.html",
        {"cohorts": cohorts, "teaches": can(request.user, "teaching.dashboard")},
    )


@login_required
def cohort_detail(request, pk: int):
    cohort = get_object_or_404(Cohort.objects.select_related("course", "version"), pk=pk)
    require(request.user, "cohort.view", cohort)
    rows = selectors.assignment_rows(cohort, request.user, _scores(cohort, request.user))
    return render(
        request,
        "learning/cohort_detail.html",
        {"cohort": cohort, "rows": rows, "can_manage": can(request.user, "cohort.roster", cohort)},
    )


def _scores(cohort, user):
    return grading_selectors.scores_by_assignment(cohort, user)


@login_required
def assignment_detail(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "assignment.view", (cohort, assignment))
    context = {
        "cohort": cohort,
        "assignment": assignment,
        "due_at": selectors.due_at_for(cohort, request.user, slug),
        "schedule": cohort.schedule.filter(assignment_slug=slug).first(),
        "can_submit": can(request.user, "submission.create", (cohort, assignment)),
    }
    context.update(_grading_context(cohort, request.user, assignment))
    return render(request, "learning/assignment_detail.html", context)


def _grading_context(cohort, user, assignment) -> dict:
    released = grading_selectors.hidden_tests_released(cohort, assignment.slug)
    return {
        "upload_form": UploadForm(),
        "history": grading_selectors.submission_history(cohort, user, assignment.slug),
        "counting_rule": grading_selectors.counting_rule(assignment),
        "hidden_tests": grading_selectors.hidden_test_sources(assignment) if released else [],
    }


@login_required
def assignment_notebook(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "assignment.view", (cohort, assignment))
    response = HttpResponse(assignment.release_notebook, content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{assignment.release_filename}"'
    return response


@login_required
def join(request, code: str = ""):
    require(request.user, "cohort.join")
    form = JoinForm(request.POST or None, initial={"code": code})
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = join_with_code(request.user, form.cleaned_data["code"])
        except EnrolmentError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("You joined %(cohort)s.") % {"cohort": enrolment.cohort})
            return redirect("cohort-detail", pk=enrolment.cohort_id)
    return render(request, "learning/join.html", {"form": form})
