"""Writes for events: registration within the seat limit, announcements, phases."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from events.models import Announcement, Event, EventRole, Registration
from events.selectors import phase_is_open


class RegistrationError(ValueError):
    pass


def _take_seat(event: Event) -> None:
    """One conditional UPDATE, as for cohorts: concurrent registrations can never oversell."""
    seats = Event.objects.filter(pk=event.pk)
    if event.seat_limit is not None:
        seats = seats.filter(seats_taken__lt=F("seat_limit"))
    if seats.update(seats_taken=F("seats_taken") + 1) != 1:
        raise RegistrationError(_("This event is full."))


def register(event: Event, user, *, code: str = "", now=None) -> Registration:
    """Register `user`; an invite-only event needs its code. Registering twice is harmless."""
    existing = Registration.objects.filter(event=event, user=user).first()
    if existing:
        return existing
    if event.phases.filter(kind="registration").exists() and not phase_is_open(
        event, "registration", now
    ):
        raise RegistrationError(_("Registration is closed."))
    if event.registration_mode == Event.RegistrationMode.INVITE and (
        not event.invite_code or code.strip().upper() != event.invite_code.upper()
    ):
        raise RegistrationError(_("This event needs a valid invite code."))
    with transaction.atomic():
        _take_seat(event)
        try:
            with transaction.atomic():
                registration = Registration.objects.create(event=event, user=user)
        except IntegrityError:
            # The same person registered twice at once: give the seat back, keep the first.
            Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") - 1)
            return Registration.objects.get(event=event, user=user)
        EventRole.objects.get_or_create(event=event, user=user, role=EventRole.Role.PARTICIPANT)
    return registration


@transaction.atomic
def unregister(registration: Registration) -> None:
    Event.objects.filter(pk=registration.event_id).update(seats_taken=F("seats_taken") - 1)
    EventRole.objects.filter(
        event_id=registration.event_id, user_id=registration.user_id, role="participant"
    ).delete()
    registration.delete()


def post_announcement(event: Event, author, body: str) -> Announcement:
    body = body.strip()
    if not body:
        raise ValueError(_("An announcement needs some text."))
    return Announcement.objects.create(event=event, author=author, body=body)


@transaction.atomic
def set_schedule(event: Event, phases: dict[str, tuple | None]) -> None:
    """Phases by kind: (starts, ends) creates or moves it, None removes it."""
    from events.models import Phase

    for kind, span in phases.items():
        if span is None:
            Phase.objects.filter(event=event, kind=kind).delete()
        else:
            Phase.objects.update_or_create(
                event=event, kind=kind, defaults={"starts_at": span[0], "ends_at": span[1]}
            )


class RoleError(ValueError):
    """A role change the event cannot take; the message says why, for the organizer."""


#: The roles an organizer hands out on the event's page (participants register themselves).
STAFF_ROLES = (EventRole.Role.ORGANIZER, EventRole.Role.MENTOR, EventRole.Role.JUDGE)


def grant_role(event: Event, user, role: str) -> EventRole:
    if role not in STAFF_ROLES:
        raise RoleError(_("That role is not given on this page."))
    granted, _created = EventRole.objects.get_or_create(event=event, user=user, role=role)
    return granted


@transaction.atomic
def revoke_role(event: Event, user, role: str) -> None:
    """Take a role back; the event always keeps at least one organizer."""
    if role not in STAFF_ROLES:
        raise RoleError(_("That role is not given on this page."))
    organizers = EventRole.objects.select_for_update().filter(
        event=event, role=EventRole.Role.ORGANIZER
    )
    if role == EventRole.Role.ORGANIZER and list(organizers.values_list("user", flat=True)) == [
        user.pk
    ]:
        raise RoleError(_("The event must keep at least one organizer."))
    EventRole.objects.filter(event=event, user=user, role=role).delete()
