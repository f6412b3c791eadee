"""Help-queue rules (registered with accounts.permissions from HelpqueueConfig.ready).

A queue's owner is an Event or a Cohort: participants and students ask; mentors, organizers,
instructors and TAs answer; organizers and instructors read the figures too.
"""

from __future__ import annotations

from accounts.permissions import rule
from events.models import Event
from events.permissions import MENTOR, ORGANIZER, PARTICIPANT, event_roles
from learning.permissions import INSTRUCTOR, STUDENT, TA, cohort_role


def _may_ask(user, owner) -> bool:
    if isinstance(owner, Event):
        return PARTICIPANT in event_roles(user, owner)
    return cohort_role(user, owner) == STUDENT


def _may_answer(user, owner) -> bool:
    if isinstance(owner, Event):
        return bool(event_roles(user, owner) & {MENTOR, ORGANIZER})
    return cohort_role(user, owner) in {INSTRUCTOR, TA}


@rule("help.ask")
def _help_ask(user, owner) -> bool:
    return _may_ask(user, owner)


@rule("help.answer")
def _help_answer(user, owner) -> bool:
    """See the live queue, claim, resolve, hand back; and the wait figures."""
    return _may_answer(user, owner)


@rule("help.follow")
def _help_follow(user, request) -> bool:
    """One request's state and place: its asker, and whoever answers that queue."""
    return request.asker_id == user.pk or _may_answer(user, request.owner)
