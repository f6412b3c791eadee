"""Team rules, registered with accounts.permissions."""

from __future__ import annotations

from accounts.permissions import rule
from events.permissions import event_roles


@rule("team.member")
def _team_member(user, team) -> bool:
    return team.memberships.filter(user=user).exists()


@rule("team.organize")
def _team_organize(user, team) -> bool:
    """Merge, split, disband: the event's organizers."""
    return "organizer" in event_roles(user, team.event)
