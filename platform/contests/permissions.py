"""Challenge rules, registered with accounts.permissions (which answers every `can()`).

Anonymous visitors never reach a rule (`can` refuses them first); the public board's
`public_board` switch is read by `selectors.may_see_board` for them.
"""

from __future__ import annotations

from accounts.permissions import rule


def event_roles(user, event) -> set[str]:
    """The user's roles in the event, asked once per user object (one request): a board page
    asks several rules and is benchmarked at 200 requests a second."""
    from events.models import EventRole

    memo = user.__dict__.setdefault("_kc_contest_event_roles", {})
    if event.pk not in memo:
        memo[event.pk] = frozenset(
            EventRole.objects.filter(event=event, user=user).values_list("role", flat=True)
        )
    return memo[event.pk]


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
