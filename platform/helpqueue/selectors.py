"""Reads of the help queue: the live queue, an asker's place, and wait and resolution figures."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from events.models import Event
from helpqueue.models import HelpRequest

Status = HelpRequest.Status


def requests_of(owner) -> QuerySet[HelpRequest]:
    field = "event" if isinstance(owner, Event) else "cohort"
    return HelpRequest.objects.filter(**{field: owner})


def open_requests(owner) -> QuerySet[HelpRequest]:
    """Waiting ones in the order they were asked, then those being helped."""
    return (
        requests_of(owner)
        .filter(status__in=HelpRequest.OPEN)
        .select_related("asker", "claimed_by")
        .order_by("-status", "created_at", "id")  # descending: "waiting" before "claimed"
    )


def open_request_of(owner, user) -> HelpRequest | None:
    return requests_of(owner).filter(asker=user, status__in=HelpRequest.OPEN).first()


def place_in_queue(request: HelpRequest) -> int | None:
    """1 for the next to be helped; None once it is no longer waiting."""
    if request.status != Status.WAITING:
        return None
    ahead = (
        requests_of(request.owner)
        .filter(status=Status.WAITING, created_at__lte=request.created_at)
        .exclude(created_at=request.created_at, id__gte=request.id)
        .count()
    )
    return ahead + 1


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the median is fraction 0.5 of an odd count, the upper middle of
    an even one)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class QueueFigures:
    waiting: int
    being_helped: int
    resolved: int
    wait_median_s: float | None
    wait_p90_s: float | None
    resolution_median_s: float | None
    resolution_p90_s: float | None
    oldest_wait_s: float | None


def figures(owner, now: datetime | None = None) -> QueueFigures:
    """Wait: asked → first claimed. Resolution: asked → resolved. Seconds."""
    now = now or timezone.now()
    rows = list(
        requests_of(owner).values("status", "created_at", "first_claimed_at", "resolved_at")
    )
    waits = [
        (r["first_claimed_at"] - r["created_at"]).total_seconds()
        for r in rows
        if r["first_claimed_at"]
    ]
    resolutions = [
        (r["resolved_at"] - r["created_at"]).total_seconds()
        for r in rows
        if r["status"] == Status.RESOLVED
    ]
    waiting = [r for r in rows if r["status"] == Status.WAITING]
    return QueueFigures(
        waiting=len(waiting),
        being_helped=sum(1 for r in rows if r["status"] == Status.CLAIMED),
        resolved=len(resolutions),
        wait_median_s=percentile(waits, 0.5),
        wait_p90_s=percentile(waits, 0.9),
        resolution_median_s=percentile(resolutions, 0.5),
        resolution_p90_s=percentile(resolutions, 0.9),
        oldest_wait_s=max(((now - r["created_at"]).total_seconds() for r in waiting), default=None),
    )


def request_json(request: HelpRequest, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "id": request.pk,
        "status": request.status,
        "status_display": str(request.get_status_display()),
        "topic": request.topic,
        "location": request.location,
        "notebook_link": request.notebook_link,
        "asker": request.asker.get_username(),
        "claimed_by": request.claimed_by.get_username() if request.claimed_by_id else "",
        # What the pages show, as their first render does: the display name, not the login.
        "asker_name": str(request.asker),
        "claimed_by_name": str(request.claimed_by) if request.claimed_by_id else "",
        "waiting_s": round((now - request.created_at).total_seconds()),
        "handed_back": request.handed_back,
    }
