"""Writes of the help queue. Every change of state is one conditional UPDATE, so when two mentors
claim the same request at once exactly one row changes and the other is told it was taken."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event
from helpqueue.models import HelpRequest

Status = HelpRequest.Status


class HelpError(ValueError):
    """Something the person should be told, in words."""


def _queue_fields(owner) -> dict:
    return {"event": owner} if isinstance(owner, Event) else {"cohort": owner}


def ask(owner, asker, topic: str, location: str, notebook_link: str = "") -> HelpRequest:
    topic, location = topic.strip(), location.strip()
    if not topic or not location:
        raise HelpError(_("Say what you need help with and where you are."))
    link = notebook_link.strip()
    if link and not link.startswith(("http://", "https://", "/")):
        raise HelpError(_("The notebook link should start with http:// or https://."))
    try:
        with transaction.atomic():
            return HelpRequest.objects.create(
                **_queue_fields(owner),
                asker=asker,
                topic=topic[:200],
                location=location[:120],
                notebook_link=link[:500],
                created_at=timezone.now(),
            )
    except IntegrityError:
        raise HelpError(_("You already have a question in this queue.")) from None


def claim(request: HelpRequest, mentor) -> None:
    """Take a waiting request. Raises HelpError when someone else got there first."""
    now = timezone.now()
    won = HelpRequest.objects.filter(pk=request.pk, status=Status.WAITING).update(
        status=Status.CLAIMED, claimed_by=mentor, claimed_at=now
    )
    if not won:
        request.refresh_from_db()
        raise HelpError(_("Someone else has already taken this question."))
    # The wait ends at the first claim; a request handed back keeps its first moment.
    HelpRequest.objects.filter(pk=request.pk, first_claimed_at__isnull=True).update(
        first_claimed_at=now
    )
    request.refresh_from_db()


def _mine(request: HelpRequest, mentor, **changes) -> None:
    done = HelpRequest.objects.filter(
        pk=request.pk, status=Status.CLAIMED, claimed_by=mentor
    ).update(**changes)
    request.refresh_from_db()
    if not done:
        raise HelpError(_("This question is not yours to answer now."))


def resolve(request: HelpRequest, mentor) -> None:
    _mine(request, mentor, status=Status.RESOLVED, resolved_at=timezone.now(), resolved_by=mentor)


def hand_back(request: HelpRequest, mentor) -> None:
    """Put a claimed request back in the queue at its old place, for another mentor."""
    from django.db.models import F

    _mine(
        request,
        mentor,
        status=Status.WAITING,
        claimed_by=None,
        claimed_at=None,
        handed_back=F("handed_back") + 1,
    )


def withdraw(request: HelpRequest, asker) -> None:
    done = HelpRequest.objects.filter(
        pk=request.pk, asker=asker, status__in=HelpRequest.OPEN
    ).update(status=Status.WITHDRAWN, resolved_at=timezone.now())
    request.refresh_from_db()
    if not done:
        raise HelpError(_("This question is already closed."))
