"""Progress at a glance and similarity: thin views over grading.progress and grading.similarity."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from accounts.permissions import can, require
from grading import progress, similarity
from learning.models import Cohort, Enrolment


def _cohort(pk: int) -> Cohort:
    return get_object_or_404(Cohort.objects.select_related("course", "version"), pk=pk)


@login_required
def cohort_progress(request, pk: int):
    cohort = _cohort(pk)
    require(request.user, "gradebook.view", cohort)
    state = request.GET.get("state", "")
    state = state if state in progress.STATES else ""
    slug = request.GET.get("assignment", "")
    query = request.GET.get("q", "").strip()[:100]
    all_assignments = list(cohort.version.assignments.order_by("position"))
    assignments, rows = progress.cohort_grid(cohort, state=state, assignment_slug=slug, query=query)
    return render(
        request,
        "grading/insight/cohort.html",
        {
            "cohort": cohort,
            "assignments": assignments,
            "all_assignments": all_assignments,
            "rows": rows,
            "states": progress.STATES,
            "legend": progress.legend(rows),
            "state": state,
            "slug": slug,
            "query": query,
            "may_see_similarity": can(request.user, "similarity.view", cohort),
        },
    )


def _student_page(request, cohort: Cohort, student):
    require(request.user, "progress.view", (cohort, student))
    own = student.pk == request.user.pk
    cells = progress.student_progress(cohort, student, as_student=own)
    return render(
        request,
        "grading/insight/student.html",
        {
            "cohort": cohort,
            "student": student,
            "cells": cells,
            "own": own,
            "total": sum(c.score or 0 for c in cells),
            "maximum": sum(c.max_score or 0 for c in cells),
            "teaches": can(request.user, "gradebook.view", cohort),
        },
    )


@login_required
def my_progress(request, pk: int):
    """A student's own progress across the course."""
    return _student_page(request, _cohort(pk), request.user)


@login_required
def student_progress(request, pk: int, user_pk: int):
    cohort = _cohort(pk)
    student = get_object_or_404(get_user_model(), pk=user_pk)
    if not cohort.enrolments.filter(user=student, role=Enrolment.Role.STUDENT).exists():
        require(request.user, "gradebook.view", cohort)  # staff learn it is no student; others 403
        raise Http404("not a student of this cohort")
    return _student_page(request, cohort, student)


def _assignment(cohort: Cohort, slug: str):
    return get_object_or_404(cohort.version.assignments, slug=slug)


@login_required
def assignment_insight(request, pk: int, slug: str):
    cohort = _cohort(pk)
    require(request.user, "gradebook.view", cohort)
    assignment = _assignment(cohort, slug)
    _assignments, rows = progress.cohort_grid(cohort, assignment_slug=slug)
    return render(
        request,
        "grading/insight/assignment.html",
        {
            "cohort": cohort,
            "assignment": assignment,
            "failed": progress.failed_tests(cohort, slug),
            "legend": progress.legend(rows),
            "may_see_similarity": can(request.user, "similarity.view", cohort),
        },
    )


@login_required
def similarity_pairs(request, pk: int, slug: str):
    cohort = _cohort(pk)
    require(request.user, "similarity.view", cohort)
    assignment = _assignment(cohort, slug)
    docs = similarity.answers(cohort, slug)
    return render(
        request,
        "grading/insight/similarity.html",
        {
            "cohort": cohort,
            "assignment": assignment,
            "pairs": similarity.closest_pairs(docs),
            "answers": len(docs),
            "k": similarity.K,
            "w": similarity.W,
        },
    )


@login_required
def similarity_pair(request, pk: int, slug: str, a: int, b: int):
    cohort = _cohort(pk)
    require(request.user, "similarity.view", cohort)
    assignment = _assignment(cohort, slug)
    docs = similarity.answers(cohort, slug)
    by_submission = {doc.submission.pk: doc for doc in docs}
    if a not in by_submission or b not in by_submission or a == b:
        raise Http404("these submissions are not two counted answers of the assignment")
    pair = next(
        (p for p in similarity.closest_pairs(docs, limit=len(docs) ** 2)
         if {p.a.submission.pk, p.b.submission.pk} == {a, b}),
        None,
    )  # fmt: skip
    left, right = by_submission[a], by_submission[b]
    return render(
        request,
        "grading/insight/similarity_pair.html",
        {
            "cohort": cohort,
            "assignment": assignment,
            "sides": [
                (left, similarity.marked_cells(left, right)),
                (right, similarity.marked_cells(right, left)),
            ],
            "percent": pair.percent if pair else 0,
            "shared": pair.shared if pair else 0,
        },
    )
