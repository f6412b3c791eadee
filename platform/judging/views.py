"""Judging pages: a judge's list and score sheet, the organizer's rubric/assignment page,
results and their CSV."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from events.models import Event
from judging import selectors, services
from judging.models import Criterion, JudgeAssignment, JudgeConflict, Score
from kernelcamp.spreadsheet import as_text
from projects.selectors import latest_version
from teams.models import Team


@login_required
def judge_home(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.judge", event)
    return render(
        request,
        "judging/judge_home.html",
        {
            "event": event,
            "assignments": selectors.assignments_of(event, request.user),
            "teams": Team.objects.filter(event=event),
        },
    )


@login_required
@require_POST
def judge_declare_conflict(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.judge", event)
    team = Team.objects.filter(pk=request.POST.get("team") or 0, event=event).first()
    if team is None:
        messages.error(request, _("Choose a team."))
        return redirect("judge-home", slug=slug)
    JudgeConflict.objects.get_or_create(
        event=event,
        judge=request.user,
        team=team,
        defaults={"reason": request.POST.get("reason", "")[:200]},
    )
    JudgeAssignment.objects.filter(
        project__team=team, judge=request.user, completed_at__isnull=True
    ).delete()
    messages.success(request, _("Conflict declared; you will not judge %(team)s.") % {"team": team})
    return redirect("judge-home", slug=slug)


@login_required
def judge_score(request, pk: int):
    assignment = get_object_or_404(
        JudgeAssignment.objects.select_related("event", "project__team"), pk=pk
    )
    require(request.user, "judging.score", assignment)
    criteria = list(Criterion.objects.filter(event=assignment.event))
    if request.method == "POST":
        points = {}
        for criterion in criteria:
            value = request.POST.get(f"c{criterion.pk}", "")
            if value.strip().isdigit():
                points[criterion.pk] = int(value)
        try:
            services.record_scores(assignment, points, request.POST.get("comment", ""))
        except services.JudgingError as exc:
            messages.error(request, str(exc))
            return redirect("judge-score", pk=pk)
        messages.success(request, _("Scores saved."))
        return redirect("judge-home", slug=assignment.event.slug)
    given = dict(Score.objects.filter(assignment=assignment).values_list("criterion", "points"))
    return render(
        request,
        "judging/judge_score.html",
        {
            "event": assignment.event,
            "assignment": assignment,
            "latest": latest_version(assignment.project),
            "rows": [(c, given.get(c.pk, "")) for c in criteria],
        },
    )


@login_required
def judging_manage(request, slug: str):
    """The organizer's page: the rubric, assigning judges, publishing results."""
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "criterion":
            try:
                weight = float(request.POST.get("weight", "1"))
                max_points = int(request.POST.get("max_points", "10"))
            except ValueError:
                weight = max_points = 0
            name = request.POST.get("name", "").strip()
            if name and weight > 0 and max_points > 0:
                Criterion.objects.create(
                    event=event,
                    name=name,
                    weight=weight,
                    max_points=max_points,
                    guidance=request.POST.get("guidance", ""),
                    order=event.criteria.count(),
                )
            else:
                messages.error(
                    request,
                    _("A criterion needs a name, a positive weight and a positive highest score."),
                )
        elif action == "assign":
            k = request.POST.get("k", "")
            report = services.assign_judges(event, int(k) if k.isdigit() else None)
            messages.success(request, _("%(n)s assignments made.") % {"n": report.created})
            if report.short:
                messages.error(
                    request,
                    _("%(n)s projects have too few judges without a conflict.")
                    % {"n": len(report.short)},
                )
        elif action == "publish":
            services.publish_results(event)
            messages.success(request, _("Results published."))
        elif action == "unpublish":
            services.unpublish_results(event)
        return redirect("judging-manage", slug=slug)
    return render(
        request,
        "judging/judging_manage.html",
        {
            "event": event,
            "criteria": event.criteria.all(),
            "progress": selectors.judging_progress(event),
            "assignments": JudgeAssignment.objects.filter(event=event).select_related(
                "judge", "project__team"
            ),
        },
    )


@login_required
def event_results(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "results.view", event)
    return render(
        request,
        "judging/results.html",
        {
            "event": event,
            "rows": selectors.results(event),
            "tie_rule": selectors.TIE_RULE,
            "may_manage": can(request.user, "event.manage", event),
        },
    )


@login_required
def event_results_csv(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-results.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["rank", "project", "team", "track", "judges", "mean_z", "mean_raw", "final_version_at"]
    )
    for row in selectors.results(event):
        writer.writerow(
            [
                row.rank,
                as_text(row.title),
                as_text(row.team),
                as_text(row.track),
                row.judges,
                f"{row.mean_z:.4f}",
                f"{row.mean_raw:.2f}",
                row.final_at.isoformat() if row.final_at else "",
            ]
        )
    return response
