"""Reads for teams."""

from __future__ import annotations

from events.models import Event
from teams.models import LookingForTeam, Team, TeamMembership


def team_of(event: Event, user) -> Team | None:
    membership = TeamMembership.objects.filter(event=event, user=user).select_related("team")
    first = membership.first()
    return first.team if first else None


def teams_with_members(event: Event):
    return Team.objects.filter(event=event).prefetch_related("memberships__user")


def looking_for_team(event: Event):
    return LookingForTeam.objects.filter(event=event).select_related("user")
