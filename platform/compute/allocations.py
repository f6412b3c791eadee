"""Writes of GPU-hour grants that organizers make from the site (staff use the admin for the
rest): an event's organizers hand extra hours to one of its teams, within the event's pool."""

from __future__ import annotations

from django.db.models import Sum
from django.utils.translation import gettext as _

from compute import selectors
from compute.models import Allocation


class AllocationError(ValueError):
    """Something the organizer should be told, in words."""


def granted_to_teams(event) -> float:
    """What the event's teams hold in all: each team's share plus the organizers' grants."""
    share = (
        Allocation.objects.filter(event=event, team__isnull=True).aggregate(
            t=Sum("per_team_gpu_hours")
        )["t"]
        or 0.0
    )
    extra = (
        Allocation.objects.filter(event=event, team__isnull=False).aggregate(t=Sum("gpu_hours"))[
            "t"
        ]
        or 0.0
    )
    return share * event.teams.count() + extra


def grant_team_hours(team, hours: float, note: str = "") -> Allocation:
    """Give a team `hours` more GPU-hours (negative takes back), never past the event's pool."""
    event = team.event
    pool = selectors.event_pool_hours(event.pk)
    if pool is None:
        raise AllocationError(_("This event has no GPU-hours of its own to hand out."))
    if hours == 0:
        raise AllocationError(_("Give a number of GPU-hours other than zero."))
    if selectors.team_granted_gpu_hours(team) + hours < 0:
        raise AllocationError(_("A team cannot be left with fewer than zero GPU-hours."))
    if hours > 0 and granted_to_teams(event) + hours > pool + 1e-9:
        raise AllocationError(
            _("The event's %(pool)g GPU-hours are all handed out to its teams.") % {"pool": pool}
        )
    grant = Allocation.objects.filter(event=event).order_by("pk").first()
    return Allocation.objects.create(
        organization_id=grant.organization_id,
        event=event,
        team=team,
        gpu_hours=hours,
        note=note[:200],
    )
