"""The grading desk: written answers, tasks and code answers graded by hand, cell by cell.

nbgrader's formgrader is the anchor: per cell a score, extra credit and a comment, the grader's
result beside each cell, keyboard navigation across cells and students, blind mode, progress.
A TA may grade (`manual.grade`); only an instructor releases to the students (`manual.release`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from grading import selectors_manual
from grading.models import Submission
from grading.services_manual import (
    CellGradeInput,
    ManualGradingError,
    grade_by_hand,
    release_manual_grades,
    withdraw_manual_grades,
)
from learning.models import Cohort

#: Session key of the reader's blind mode (names hidden on the desk and its pages).
BLIND = "kc_manual_blind"


def _blind(request) -> bool:
    if "blind" in request.GET:
        request.session[BLIND] = request.GET["blind"] == "1"
    return bool(request.session.get(BLIND, False))


@login_required
def desk(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort.objects.select_related("course", "version"), pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "manual.grade", cohort)
    blind = _blind(request)
    the_desk = selectors_manual.desk(cohort, slug, blind=blind)
    return render(
        request,
        "grading/manual/desk.html",
        {
            "cohort": cohort,
            "assignment": assignment,
            "desk": the_desk,
            "blind": blind,
            "may_release": can(request.user, "manual.release", cohort),
            "first_waiting": the_desk.next_waiting(0),
        },
    )


def _submission(request, pk: int) -> Submission:
    submission = get_object_or_404(
        Submission.objects.select_related(
            "cohort__course", "cohort__version", "assignment", "student", "grade__graded_against"
        ),
        pk=pk,
    )
    require(request.user, "manual.grade", submission.cohort)
    return submission


@login_required
def grade_submission(request, pk: int):
    submission = _submission(request, pk)
    cohort, slug = submission.cohort, submission.assignment.slug
    if submission.status != Submission.Status.GRADED or not hasattr(submission, "grade"):
        messages.error(request, _("This submission is not graded yet."))
        return redirect("manual-desk", pk=cohort.pk, slug=slug)
    blind = _blind(request)
    the_desk = selectors_manual.desk(cohort, slug, blind=blind)
    if request.method == "POST":
        return _save(request, submission, the_desk)
    previous, following = the_desk.neighbours(submission.pk)
    row = next((r for r in the_desk.rows if r.submission.pk == submission.pk), None)
    return render(
        request,
        "grading/manual/grade.html",
        {
            "cohort": cohort,
            "submission": submission,
            "grade": submission.grade,
            "cells": selectors_manual.desk_cells(submission),
            "desk": the_desk,
            "row": row,
            "label": row.label if row else ("#?" if blind else str(submission.student)),
            "blind": blind,
            "previous": previous,
            "next": following,
            "counts": row is not None,
        },
    )


def _number(value: str, field: str, cell_id: str) -> float | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ManualGradingError(
            _("%(field)s of %(cell)s is not a number.") % {"field": field, "cell": cell_id}
        ) from None


def _save(request, submission: Submission, the_desk):
    entries = []
    try:
        for cell in submission.grade.cells.filter(counted=True):
            key = cell.pk
            if f"cell-{key}" not in request.POST:
                continue
            entries.append(
                CellGradeInput(
                    cell_id=cell.cell_id,
                    score=_number(request.POST.get(f"score-{key}"), _("Score"), cell.cell_id),
                    extra_credit=_number(
                        request.POST.get(f"extra-{key}"), _("Extra credit"), cell.cell_id
                    )
                    or 0.0,
                    comment=request.POST.get(f"comment-{key}", ""),
                )
            )
        grade_by_hand(submission, entries, request.user)
    except ManualGradingError as exc:
        messages.error(request, str(exc))
        return redirect("manual-grade", pk=submission.pk)
    messages.success(request, _("Grades saved."))
    if request.POST.get("then") == "next":
        following = the_desk.next_waiting(submission.pk) or the_desk.neighbours(submission.pk)[1]
        if following:
            return redirect("manual-grade", pk=following)
        return redirect("manual-desk", pk=submission.cohort_id, slug=submission.assignment.slug)
    return redirect(reverse("manual-grade", args=[submission.pk]))


@login_required
@require_POST
def release(request, pk: int, slug: str):
    cohort = get_object_or_404(Cohort, pk=pk)
    require(request.user, "manual.release", cohort)
    try:
        if request.POST.get("withdraw"):
            withdraw_manual_grades(cohort, slug, by=request.user)
            messages.success(request, _("Grades by hand are hidden from the students again."))
        else:
            release_manual_grades(cohort, slug, by=request.user)
            messages.success(
                request,
                _("Students now see their grades by hand and your comments for %(slug)s.")
                % {"slug": slug},
            )
    except ManualGradingError as exc:
        messages.error(request, str(exc))
    return redirect("manual-desk", pk=pk, slug=slug)
