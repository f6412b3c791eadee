"""Challenge rules, registered with accounts.permissions (which answers every `can()`).

Anonymous visitors never reach a rule (`can` refuses them first); the public board's
`public_board` switch is read by `selectors.may_see_board` for them.
"""

from __future__ import annotations

from accounts.permissions import rule
from events.permissions import event_roles


@rule("contest.view")
def _contest_view(user, challenge) -> bool:
    """The statement and the public board: anyone with a role in the event."""
    return bool(event_roles(user, challenge.event))


@rule("contest.enter")
def _contest_enter(user, challenge) -> bool:
    """Hand in entries: the event's registered participants (alone or in their team)."""
    return "participant" in event_roles(user, challenge.event)


@rule("contest.manage")
def _contest_manage(user, challenge) -> bool:
    """Freeze, reveal, rescore, export, review flagged entries: the event's organizers."""
    return "organizer" in event_roles(user, challenge.event)


@rule("contest.entry")
def _contest_entry(user, entry) -> bool:
    """One entry, its file and its result: whoever's row it feeds, and organizers."""
    if entry.user_id == user.pk or "organizer" in event_roles(user, entry.challenge.event):
        return True
    return entry.team_id is not None and entry.team.memberships.filter(user=user).exists()


@rule("contest.final")
def _contest_final(user, entry) -> bool:
    """Mark an entry final: someone who speaks for its row now. A member who left the team may
    still read the entries they made, but no longer chooses the team's final ones."""
    if entry.team_id is not None:
        return entry.team.memberships.filter(user=user).exists()
    return entry.user_id == user.pk
