"""Read paths of scored challenges: who sees which board, quotas left, places in the queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q

from accounts.permissions import can
from contests.boards import is_frozen
from contests.models import BoardRow, Challenge, Entry, QuotaUsage, RescoreBatch
from contests.services import competitor_for, event_day, is_open

PUBLIC, PRIVATE = BoardRow.Board.PUBLIC, BoardRow.Board.PRIVATE


def may_see_board(user, challenge: Challenge, board: str) -> bool:
    """The public board: anyone when the challenge says so, else the event's people. The private
    board: organizers, then everyone who sees the public one once it is revealed."""
    if can(user, "contest.manage", challenge):
        return True
    public = challenge.public_board or can(user, "contest.view", challenge)
    if board == PUBLIC:
        return public
    return public and challenge.private_revealed_at is not None


def sees_live(user, challenge: Challenge) -> bool:
    """Organizers always see live scores; others only while the board is not frozen."""
    return not is_frozen(challenge) or can(user, "contest.manage", challenge)


@dataclass(frozen=True)
class Quota:
    used_today: int
    used_total: int
    per_day: int
    total: int

    @property
    def left_today(self) -> int:
        return max(0, min(self.per_day - self.used_today, self.total - self.used_total))

    @property
    def left_total(self) -> int:
        return max(0, self.total - self.used_total)


def quota(challenge: Challenge, competitor: str) -> Quota:
    today = event_day(challenge)
    used = dict(
        QuotaUsage.objects.filter(challenge=challenge, competitor=competitor)
        .filter(Q(day=today) | Q(day__isnull=True))
        .values_list("day", "used")
    )
    return Quota(
        used.get(today, 0), used.get(None, 0), challenge.quota_per_day, challenge.quota_total
    )


def queue_position(entry: Entry) -> int | None:
    """About how many entries the fair order scores before this one: within each other lane
    (competitor), as many as this entry waits behind in its own lane, counted across events."""
    if entry.status != Entry.Status.QUEUED:
        return None
    queued = Entry.objects.filter(status=Entry.Status.QUEUED)
    ahead_in_lane = (
        queued.filter(challenge_id=entry.challenge_id, competitor=entry.competitor)
        .filter(Q(queued_at__lt=entry.queued_at) | Q(queued_at=entry.queued_at, pk__lt=entry.pk))
        .count()
    )
    rounds = ahead_in_lane + 1
    ahead = ahead_in_lane
    lanes = (
        queued.exclude(challenge_id=entry.challenge_id, competitor=entry.competitor)
        .values("challenge_id", "competitor")
        .annotate(n=Count("pk"), oldest=Min("queued_at"))
        .order_by()
    )
    for lane in lanes:
        # A lane that waited longer goes first in this entry's round; a newer one after it.
        ahead += min(lane["n"], rounds if lane["oldest"] < entry.queued_at else rounds - 1)
    return ahead + 1


def entries_of(challenge: Challenge, competitor: str, limit: int = 50) -> list[Entry]:
    return list(
        Entry.objects.filter(challenge=challenge, competitor=competitor)
        .select_related("user")
        .defer("file", "result")[:limit]
    )


def participant_view(challenge: Challenge, user) -> dict:
    """What the challenge page shows a participant: their lane, quota, entries, places."""
    competitor, team_id = competitor_for(challenge, user)
    entries = entries_of(challenge, competitor)
    for entry in entries:
        entry.place = queue_position(entry) if entry.status == Entry.Status.QUEUED else None
    return {
        "competitor": competitor,
        "team_id": team_id,
        "quota": quota(challenge, competitor),
        "entries": entries,
        "pending": any(e.status in {Entry.Status.QUEUED, Entry.Status.RUNNING} for e in entries),
        "final_count": sum(1 for e in entries if e.is_final),
        "open": is_open(challenge),  # final marks change only while entries are taken
    }


def rescore_progress(challenge: Challenge) -> list[dict]:
    """The latest rescoring requests with how far each has got."""
    batches = RescoreBatch.objects.filter(challenge=challenge).annotate(
        waiting=Count(
            "entries", filter=Q(entries__status__in=[Entry.Status.QUEUED, Entry.Status.RUNNING])
        )
    )[:5]
    return [
        {
            "batch": b,
            "done": b.total - b.waiting,
            "percent": round(100 * (b.total - b.waiting) / b.total) if b.total else 100,
        }
        for b in batches
    ]


def flagged_entries(challenge: Challenge) -> list[Entry]:
    """Scored but held off the board (e.g. 'too-fast'): for organizers to review."""
    return list(
        Entry.objects.filter(challenge=challenge, status=Entry.Status.SCORED, ranked=False)
        .exclude(flags=[])
        .select_related("team", "user")
        .defer("file")[:100]
    )


def queue_summary(challenge: Challenge) -> dict:
    counts = dict(
        Entry.objects.filter(challenge=challenge)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {status: counts.get(status, 0) for status in Entry.Status.values}
