"""Team pages: the event's teams, joining by code or link, leaving, looking for a team, and the
organizer's merge, split and disband."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from events.models import Event
from teams import selectors, services
from teams.models import Team


def _event(slug: str) -> Event:
    return get_object_or_404(Event, slug=slug)


@login_required
def event_teams(request, slug: str):
    event = _event(slug)
    require(request.user, "event.participate", event)
    my_team = selectors.team_of(event, request.user)
    return render(
        request,
        "teams/event_teams.html",
        {
            "event": event,
            "my_team": my_team,
            "teams": selectors.teams_with_members(event),
            "looking": selectors.looking_for_team(event),
            "locked": services.teams_locked(event),
            # A team that has handed in keeps its members (teams.services.leave_team).
            "bound": my_team is not None and services.has_handed_in(my_team),
            "may_organize": can(request.user, "event.manage", event),
        },
    )


def _run(request, action, success: str):
    try:
        action()
    except services.TeamError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


@login_required
@require_POST
def team_create(request, slug: str):
    event = _event(slug)
    require(request.user, "event.participate", event)
    name = request.POST.get("name", "")
    _run(request, lambda: services.create_team(event, request.user, name), _("Team created."))
    return redirect("event-teams", slug=slug)


@login_required
@require_POST
def team_join_code(request, slug: str):
    event = _event(slug)
    require(request.user, "event.participate", event)
    code = request.POST.get("code", "")
    _run(request, lambda: services.join_team(request.user, code), _("You joined the team."))
    return redirect("event-teams", slug=slug)


@login_required
def team_join(request, code: str):
    """The invite link a team shares: confirm, then join."""
    team = Team.objects.select_related("event").filter(join_code=code.upper()).first()
    if team is None:
        raise Http404
    if request.method == "POST":
        if _run(request, lambda: services.join_team(request.user, code), _("You joined the team.")):
            return redirect("event-teams", slug=team.event.slug)
    registered = team.event.registrations.filter(user=request.user).exists()
    member = team.memberships.filter(user=request.user).exists()
    return render(
        request,
        "teams/team_join.html",
        {"team": team, "event": team.event, "registered": registered, "member": member},
    )


@login_required
@require_POST
def team_leave(request, slug: str):
    event = _event(slug)
    require(request.user, "event.participate", event)
    _run(request, lambda: services.leave_team(event, request.user), _("You left the team."))
    return redirect("event-teams", slug=slug)


@login_required
@require_POST
def team_looking(request, slug: str):
    event = _event(slug)
    require(request.user, "event.participate", event)
    note = None if request.POST.get("stop") else request.POST.get("note", "")
    _run(request, lambda: services.set_looking(event, request.user, note), _("Saved."))
    return redirect("event-teams", slug=slug)


@login_required
@require_POST
def team_organize(request, pk: int):
    team = get_object_or_404(Team.objects.select_related("event"), pk=pk)
    require(request.user, "team.organize", team)
    action = request.POST.get("action")
    if action == "disband":
        _run(request, lambda: services.disband_team(team), _("Team disbanded."))
    elif action == "merge":
        other = get_object_or_404(Team, pk=request.POST.get("other") or 0, event=team.event)
        _run(request, lambda: services.merge_teams(team, other), _("Teams merged."))
    elif action == "split":
        ids = [int(i) for i in request.POST.getlist("members") if i.isdigit()]
        name = request.POST.get("name", "")
        _run(request, lambda: services.split_team(team, ids, name), _("Team split."))
    else:
        messages.error(request, _("Unknown action."))
    return redirect("event-teams", slug=team.event.slug)
