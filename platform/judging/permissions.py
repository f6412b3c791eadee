"""Judging rules, registered with accounts.permissions."""

from __future__ import annotations

from accounts.permissions import rule
from events.permissions import event_roles


@rule("judging.score")
def _judging_score(user, assignment) -> bool:
    return assignment.judge_id == user.pk and "judge" in event_roles(user, assignment.event)


@rule("results.view")
def _results_view(user, event) -> bool:
    """Organizers always; everyone else in the event once the results are published."""
    roles = event_roles(user, event)
    if "organizer" in roles:
        return True
    return bool(roles) and event.results_published_at is not None
