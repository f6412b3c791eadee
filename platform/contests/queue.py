"""The scoring queue: fair across events and competitors, held by leases.

The task queue only carries tokens (`score_next_entry`, no arguments, one per queued entry); the
worker that runs a token decides *which* entry to score: the oldest queued entry of the
least recently served competitor of the least recently served event. So a team that hands in
fifty entries at once, or an event with a thousand, delays another team or event by at most one
entry each time round. Tokens go to the `contests` queue at a priority below cohort grading, so a
worker that serves both queues always grades a cohort's notebook first.

A worker holds a scoring run by a lease (as grading does): `attempts` fences, so only the latest
claim may write the result, and an expired lease means the worker died.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import F, Min, Q
from django.utils import timezone

from contests.models import Entry, QueueLane
from kernelcamp.workers import LeaseHeartbeat

log = logging.getLogger(__name__)

QUEUE_NAME = "contests"
#: Below cohort grading's default 0 (django-tasks picks the highest priority first).
TOKEN_PRIORITY = -10
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def enqueue_token() -> None:
    from contests.tasks import score_next_entry

    score_next_entry.using(queue_name=QUEUE_NAME, priority=TOKEN_PRIORITY).enqueue()


def event_lane(event_id: int) -> str:
    return f"e{event_id}"


def competitor_lane(challenge_id: int, competitor: str) -> str:
    return f"c{challenge_id}:{competitor}"


def _served(keys: list[str]) -> dict[str, datetime]:
    return dict(QueueLane.objects.filter(key__in=keys).values_list("key", "last_served_at"))


def pick_next() -> int | None:
    """The id of the entry the fair order serves next, or None when nothing is queued."""
    queued = Entry.objects.filter(status=Entry.Status.QUEUED)
    events = list(queued.values("challenge__event_id").annotate(oldest=Min("queued_at")).order_by())
    if not events:
        return None
    served = _served([event_lane(e["challenge__event_id"]) for e in events])
    event = min(
        events,
        key=lambda e: (
            served.get(event_lane(e["challenge__event_id"]), _NEVER),
            e["oldest"] or _NEVER,
        ),
    )["challenge__event_id"]
    lanes = list(
        queued.filter(challenge__event_id=event)
        .values("challenge_id", "competitor")
        .annotate(oldest=Min("queued_at"))
        .order_by()
    )
    served = _served([competitor_lane(c["challenge_id"], c["competitor"]) for c in lanes])
    lane = min(
        lanes,
        key=lambda c: (
            served.get(competitor_lane(c["challenge_id"], c["competitor"]), _NEVER),
            c["oldest"] or _NEVER,
        ),
    )
    return (
        queued.filter(challenge_id=lane["challenge_id"], competitor=lane["competitor"])
        .order_by("queued_at", "id")
        .values_list("pk", flat=True)
        .first()
    )


def mark_served(entry: Entry) -> None:
    now = timezone.now()
    for key in (
        event_lane(entry.challenge.event_id),
        competitor_lane(entry.challenge_id, entry.competitor),
    ):
        QueueLane.objects.update_or_create(key=key, defaults={"last_served_at": now})


def claim(entry_id: int) -> int | None:
    """Take a queued entry (or one whose worker's lease ran out): the claim's attempt number, or
    None when another worker got it first."""
    now = timezone.now()
    claimable = Q(status=Entry.Status.QUEUED) | Q(
        status=Entry.Status.RUNNING, lease_expires_at__lt=now
    )
    updated = (
        Entry.objects.filter(pk=entry_id)
        .filter(claimable)
        .update(
            status=Entry.Status.RUNNING,
            started_at=now,
            lease_expires_at=now + timedelta(seconds=settings.KC_CONTEST_LEASE_SECONDS),
            attempts=F("attempts") + 1,
        )
    )
    if updated != 1:
        return None
    return Entry.objects.values_list("attempts", flat=True).get(pk=entry_id)


def claim_next() -> tuple[Entry, int] | None:
    """Claim the entry the fair order picks, retrying when another worker took it first."""
    for _ in range(20):
        entry_id = pick_next()
        if entry_id is None:
            return None
        attempt = claim(entry_id)
        if attempt is not None:
            entry = Entry.objects.select_related("challenge", "challenge__event").get(pk=entry_id)
            mark_served(entry)
            return entry, attempt
    return None


def renew(entry_id: int, attempt: int) -> bool:
    return (
        Entry.objects.filter(pk=entry_id, attempts=attempt, status=Entry.Status.RUNNING).update(
            lease_expires_at=timezone.now() + timedelta(seconds=settings.KC_CONTEST_LEASE_SECONDS)
        )
        == 1
    )


class Heartbeat(LeaseHeartbeat):
    """Renews the entry's claim every third of the lease until the block ends."""

    def __init__(self, entry_id: int, attempt: int) -> None:
        super().__init__(
            lambda: renew(entry_id, attempt),
            lambda: settings.KC_CONTEST_LEASE_SECONDS,
            name=f"entry-{entry_id}",
        )


def recover() -> list[int]:
    """Put back what dead workers left (expired leases), and top the token count up to the
    number of queued entries (a token lost with a dead worker would strand an entry)."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    requeued = []
    for entry_id in Entry.objects.filter(
        status=Entry.Status.RUNNING, lease_expires_at__lt=now
    ).values_list("pk", flat=True):
        if (
            Entry.objects.filter(
                pk=entry_id, status=Entry.Status.RUNNING, lease_expires_at__lt=now
            ).update(status=Entry.Status.QUEUED, lease_expires_at=None)
            == 1
        ):
            requeued.append(entry_id)
    queued = Entry.objects.filter(status=Entry.Status.QUEUED).count()
    tokens = DBTaskResult.objects.filter(
        queue_name=QUEUE_NAME, status__in=["READY", "RUNNING"]
    ).count()
    for _ in range(max(0, queued - tokens)):
        enqueue_token()
    if requeued:
        log.warning("requeued interrupted scoring runs: %s", requeued)
    return requeued
