"""Event rules and the event-role lookup that teams, projects, judging and the help queue build on
(registered with accounts.permissions from EventsConfig.ready)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models.signals import post_delete, post_save

from accounts.permissions import rule

ORGANIZER = "organizer"
MENTOR = "mentor"
JUDGE = "judge"
PARTICIPANT = "participant"


#: The roles asked during the current request, by (user id, event id): an event page asks a
#: dozen rules of one event, each of which would otherwise read the same rows. A context
#: variable, so each gthread worker thread (and each asyncio task) has its own; None outside a
#: request (workers, shell, tests calling `can`), where every call reads the database.
_request_memo: ContextVar[dict[tuple[int, int], tuple[int, frozenset[str]]] | None] = ContextVar(
    "kc_event_roles", default=None
)
#: Raised whenever an EventRole is saved or deleted in this process, so a memo filled before
#: the change (in this request or in a concurrent one of another thread) is not trusted after it.
_changes = itertools.count(1)
_generation = 0


def _roles_changed(**_kwargs) -> None:
    global _generation
    _generation = next(_changes)


def event_roles(user, event) -> set[str]:
    """The user's roles in the event; asked once per request and event while a request scope is
    open (`EventRolesMiddleware`), read again after any role changed."""
    from events.models import EventRole

    memo = _request_memo.get()
    key = (user.pk, event.pk)
    if memo is not None and user.pk is not None:
        cached = memo.get(key)
        if cached is not None and cached[0] == _generation:
            return set(cached[1])
    generation = _generation  # read before the query: a change during it makes the entry stale
    roles = set(EventRole.objects.filter(event=event, user=user).values_list("role", flat=True))
    if memo is not None and user.pk is not None:
        memo[key] = (generation, frozenset(roles))
    return roles


@contextmanager
def request_scope() -> Iterator[None]:
    """Memoize `event_roles` for the duration of one request (the middleware's `with`)."""
    token = _request_memo.set({})
    try:
        yield
    finally:
        _request_memo.reset(token)


post_save.connect(_roles_changed, sender="events.EventRole", dispatch_uid="kc-event-roles-save")
post_delete.connect(_roles_changed, sender="events.EventRole", dispatch_uid="kc-event-roles-del")


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
