"""The session ledger: every change of a session's state, and the one charge formula.

A session (`HubSession`) is one server's life: `starting` (asked of the hub) → `running` (ready;
charged from the hub's own `started`, the moment its spawner began) → `stopping` (the charge ends
at the moment a stop was asked for) → `stopped` (the final charge written). `failed` ends a
session that never became ready. Nothing else in the site writes these fields.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compute.models import GpuProfile, HubSession

log = logging.getLogger(__name__)

Status = HubSession.Status


class AlreadyActive(Exception):
    """The user already has a starting or running session (a database rule)."""


def charge_seconds(session: HubSession, now: datetime | None = None) -> float:
    """GPU-seconds: the server's runtime (up to now while it runs) times the profile's weight."""
    return session.runtime_seconds(now) * session.cost_weight


def live_charge(session: HubSession, now: datetime | None = None) -> float:
    """What a session costs so far: the written charge once closed, else computed up to now."""
    if session.status in HubSession.ACTIVE:
        return charge_seconds(session, now)
    return session.charged_seconds


def hub_time(text: str) -> datetime | None:
    """A timestamp as the hub's REST API writes it (ISO 8601, UTC)."""
    return parse_datetime(text) if text else None


def open_session(
    user, profile: GpuProfile, hub_username: str, organization_id, team=None
) -> HubSession:
    """The row of a new launch. With `team`, the charge is that team's (and its event's)."""
    try:
        with transaction.atomic():
            return HubSession.objects.create(
                user=user,
                profile=profile,
                hub_username=hub_username,
                cost_weight=profile.cost_weight,
                organization_id=organization_id,
                team=team,
                event_id=team.event_id if team is not None else None,
            )
    except IntegrityError:
        raise AlreadyActive() from None


def adopt(user, hub_username: str, profile: GpuProfile | None, state) -> HubSession:
    """A server the site did not start (or lost track of): it is charged from the hub's start."""
    from compute import selectors

    started = hub_time(state.started) or timezone.now()
    return HubSession.objects.create(
        user=user,
        profile=profile,
        hub_username=hub_username,
        status=Status.RUNNING if state.ready else Status.STARTING,
        origin=HubSession.Origin.HUB,
        requested_at=started,
        started_at=started if state.ready else None,
        hub_started=state.started,
        cost_weight=profile.cost_weight if profile else 1.0,
        organization_id=selectors.charged_organization(user),
    )


def discard(session: HubSession) -> None:
    """Forget a session the hub never heard of (it was refused before anything started)."""
    HubSession.objects.filter(pk=session.pk, status=Status.STARTING).delete()


def mark_running(session: HubSession, hub_started: str, delivered: list[str] = ()) -> bool:
    """The server is ready (and `delivered` written into it). Only the first caller wins."""
    started = hub_time(hub_started) or timezone.now()
    won = HubSession.objects.filter(pk=session.pk, status=Status.STARTING).update(
        status=Status.RUNNING,
        started_at=started,
        hub_started=hub_started,
        delivered=session.delivered + list(delivered),
    )
    session.refresh_from_db()
    return bool(won)


def fail(session: HubSession, message: str) -> None:
    """A session that never became ready: nothing is charged."""
    HubSession.objects.filter(pk=session.pk, status=Status.STARTING).update(
        status=Status.FAILED, stopped_at=timezone.now(), message=message[:2000]
    )
    session.refresh_from_db()


def request_stop(session: HubSession, reason: str, now: datetime | None = None) -> bool:
    """A stop was asked for: the charge ends now, the hub is told next (by the caller)."""
    changed = HubSession.objects.filter(
        pk=session.pk, status__in=(Status.STARTING, Status.RUNNING)
    ).update(status=Status.STOPPING, stopped_at=now or timezone.now(), stop_reason=reason[:32])
    session.refresh_from_db()
    return bool(changed)


def close(session: HubSession, reason: str, stopped_at: datetime | None = None) -> None:
    """The server no longer runs: write the final charge. A stop asked for keeps its moment."""
    session.refresh_from_db()
    if session.status not in HubSession.ACTIVE:
        return
    if session.status == Status.STOPPING and session.stopped_at is not None:
        stopped_at, reason = session.stopped_at, session.stop_reason or reason
    stopped_at = stopped_at or timezone.now()
    session.stopped_at = stopped_at
    charged = charge_seconds(session)
    HubSession.objects.filter(pk=session.pk, status__in=HubSession.ACTIVE).update(
        status=Status.STOPPED,
        stopped_at=stopped_at,
        charged_seconds=charged,
        stop_reason=reason[:32],
    )
    session.refresh_from_db()


def meter(session: HubSession, now: datetime) -> None:
    """Write the charge so far of a running session (the reconcile task, every round)."""
    HubSession.objects.filter(pk=session.pk, status=Status.RUNNING).update(
        charged_seconds=charge_seconds(session, now)
    )


def mark_warned(session: HubSession, now: datetime) -> None:
    HubSession.objects.filter(pk=session.pk).update(warned_at=now)
