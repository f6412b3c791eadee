"""Submitting, watching a grade arrive, and the instructor's gradebook."""

import csv

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from accounts.ratelimit import submission_refusal
from grading import selectors, selectors_manual, services
from grading.forms import OverrideForm, UploadForm
from grading.models import RegradeBatch, Submission
from kernelcamp.spreadsheet import as_text
from learning.models import Cohort


@login_required
@require_POST
def submit(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "submission.create", (cohort, assignment))
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a notebook file to upload."))
        return redirect("assignment-detail", pk=pk, slug=slug)
    upload = form.cleaned_data["notebook"]
    if refusal := submission_refusal(request.user, cohort, slug):  # per student, per minute
        messages.error(request, refusal)
        return redirect("assignment-detail", pk=pk, slug=slug)
    try:
        submission = services.submit(
            cohort, request.user, slug, upload.read(), filename=upload.name
        )
    except services.SubmissionError as exc:
        messages.error(request, str(exc))
        return redirect("assignment-detail", pk=pk, slug=slug)
    return redirect("submission-detail", pk=submission.pk)


def _submission(request, pk: int) -> Submission:
    submission = get_object_or_404(
        Submission.objects.select_related("cohort", "assignment", "student").defer("notebook"),
        pk=pk,
    )
    require(request.user, "submission.view", submission)
    return submission


@login_required
def submission_detail(request, pk: int):
    submission = _submission(request, pk)
    return render(
        request,
        "grading/submission_detail.html",
        {"submission": submission, **_status_context(submission, request.user)},
    )


@login_required
def submission_status(request, pk: int):
    """The part of the page that htmx polls until the grade is in."""
    submission = _submission(request, pk)
    return render(
        request,
        "grading/_submission_status.html",
        {"submission": submission, **_status_context(submission, request.user)},
    )


def _status_context(submission: Submission, viewer) -> dict:
    grade = (
        getattr(submission, "grade", None)
        if submission.status == Submission.Status.GRADED
        else None
    )
    # Its student sees grades by hand once released; those who teach see them as given.
    as_student = viewer.pk == submission.student_id
    score = selectors.effective_score(submission, released_only=as_student) if grade else None
    if grade and as_student:
        manual = selectors_manual.student_manual_grades(submission)
    else:
        manual = {m.cell_id: m for m in submission.manual_grades.all()} if grade else {}
    return {
        "manual": manual,
        "manual_released": bool(grade)
        and selectors.manual_released(submission.cohort_id, submission.assignment.slug),
        "grade": grade,
        # A submission the grader refused shows its 0, though it never counts.
        "score": grade.score if grade and score is None else score,
        "review": getattr(submission, "review", None) if grade else None,
        "cells": _with_manual(grade.cells.all(), manual) if grade else [],
        "finished": submission.status in (Submission.Status.GRADED, Submission.Status.FAILED),
    }


def _with_manual(cells, manual: dict) -> list:
    """Each cell with `.manual`: its grade by hand the viewer may read, or None."""
    cells = list(cells)
    for cell in cells:
        cell.manual = manual.get(cell.cell_id)
    return cells


@login_required
def submission_feedback(request, pk: int):
    """The first feedback address (the grader's own HTML) now leads to the feedback page in the
    site's design, so old links and bookmarks keep working and show one feedback, not two."""
    submission = _submission(request, pk)
    return redirect("submission-feedback-page", pk=submission.pk)


@login_required
def gradebook(request, pk: int):
    cohort = get_object_or_404(Cohort.objects.select_related("course", "version"), pk=pk)
    require(request.user, "gradebook.view", cohort)
    from grading import plots  # matplotlib is slow to import; only this page needs it

    assignments, rows = selectors.gradebook(cohort)
    distribution = selectors.score_distribution(cohort)
    failed = selectors.most_failed_tests(cohort)
    maxima = {a.slug: a.points for a in assignments}
    return render(
        request,
        "grading/gradebook.html",
        {
            "cohort": cohort,
            "assignments": assignments,
            "rows": rows,
            "distribution_svg": plots.score_distribution_svg(
                distribution, maxima, _("Score distribution")
            )
            if any(distribution.values())
            else "",
            "failed": failed,
            "failed_svg": plots.failed_tests_svg(failed, _("Tests failed most often"))
            if failed
            else "",
            "may_manage": can(request.user, "gradebook.manage", cohort),
            "pending_reviews": len(selectors.review_queue(cohort)),
            "regrades": cohort.regrades.order_by("-requested_at")[:5],
        },
    )


@login_required
def gradebook_csv(request, pk: int):
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "gradebook.view", cohort)
    assignments, rows = selectors.gradebook(cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gradebook-cohort-{cohort.pk}.csv"'
    writer = csv.writer(response)
    header = ["username", "email"]
    for a in assignments:
        header += [
            f"{a.slug}",
            f"{a.slug}_raw",
            f"{a.slug}_late_penalty_pct",
            f"{a.slug}_override_comment",
            f"{a.slug}_held",
            f"{a.slug}_review",
            f"{a.slug}_max",
            f"{a.slug}_gpu_waiting",
            f"{a.slug}_by_hand_waiting",
        ]
    writer.writerow(header + ["total"])
    for row in rows:
        line = [as_text(row.student.username), as_text(row.student.email)]
        for cell in row.cells:
            grade = cell.grade
            line += [
                "" if cell.score is None else cell.score,
                grade.raw_score if grade else "",
                grade.late_penalty_percent if grade else "",
                cell.override.comment if cell.override else "",
                cell.held_points if grade else "",
                cell.review.decision if cell.review else "",
                cell.max_score if grade else "",
                cell.waiting_gpu if grade else "",
                cell.waiting_by_hand if grade else "",
            ]
        writer.writerow(line + [row.total])
    return response


@login_required
@require_POST
def override(request, pk: int):
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "gradebook.manage", cohort)
    form = OverrideForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        student = get_object_or_404(get_user_model(), username=data["username"])
        try:
            services.override_grade(
                cohort,
                student,
                data["assignment_slug"],
                data["score"],
                data["comment"],
                request.user,
            )
        except services.SubmissionError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Score for %(user)s saved.") % {"user": student})
    else:
        messages.error(request, _("An override needs a score and a comment."))
    return redirect("gradebook", pk=pk)


@login_required
@require_POST
def regrade(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "gradebook.manage", cohort)
    get_object_or_404(cohort.version.assignments, slug=slug)
    batch = services.regrade_assignment(cohort, slug, by=request.user)
    return redirect("regrade-detail", pk=batch.pk)


@login_required
def regrade_detail(request, pk: int):
    batch = get_object_or_404(RegradeBatch.objects.select_related("cohort"), pk=pk)
    require(request.user, "gradebook.view", batch.cohort)
    progress = selectors.regrade_progress(batch)
    template = (
        "grading/_regrade_progress.html"
        if request.headers.get("HX-Request")
        else "grading/regrade.html"
    )
    return render(request, template, {"batch": batch, "progress": progress})


@login_required
@require_POST
def release_tests(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "gradebook.manage", cohort)
    try:
        services.release_hidden_tests(cohort, slug, by=request.user)
    except services.SubmissionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Students can now read the hidden tests of %(slug)s.") % {"slug": slug}
        )
    return redirect("gradebook", pk=pk)
