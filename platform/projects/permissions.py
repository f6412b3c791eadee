"""Project rules, registered with accounts.permissions."""

from __future__ import annotations

from accounts.permissions import rule
from events.permissions import event_roles


@rule("project.view")
def _project_view(user, project) -> bool:
    """The team, the event's organizers, and the judges assigned to it."""
    if project.team.memberships.filter(user=user).exists():
        return True
    if "organizer" in event_roles(user, project.event):
        return True
    return project.judge_assignments.filter(judge=user).exists()
