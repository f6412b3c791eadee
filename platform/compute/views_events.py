"""An event's GPU-hours for its organizers: the pool, each team's share and use, extra grants."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import require
from compute import allocations, selectors
from events.models import Event


def _managed_event(request: HttpRequest, slug: str) -> Event:
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    return event


@login_required
def event_gpu(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    if request.method == "POST":
        team = get_object_or_404(event.teams, pk=request.POST.get("team") or 0)
        try:
            hours = float(request.POST.get("hours", ""))
            allocations.grant_team_hours(team, hours, request.POST.get("note", ""))
        except ValueError as exc:  # AllocationError is a ValueError, as is a bad number
            message = str(exc) if isinstance(exc, allocations.AllocationError) else ""
            messages.error(request, message or _("Give the GPU-hours as a number."))
        else:
            messages.success(
                request,
                _("%(team)s: %(hours)g GPU-hours granted.") % {"team": team.name, "hours": hours},
            )
        return redirect("event-gpu", slug=event.slug)
    return render(
        request, "compute/event_gpu.html", {"event": event, "gpu": selectors.event_gpu_use(event)}
    )


@login_required
def event_gpu_card(request: HttpRequest, slug: str) -> HttpResponse:
    """The dashboard's GPU card (htmx): the event's pool and use at a glance."""
    event = _managed_event(request, slug)
    return render(
        request,
        "compute/_event_gpu_card.html",
        {"event": event, "gpu": selectors.event_gpu_use(event)},
    )
