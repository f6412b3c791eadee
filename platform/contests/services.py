"""Write paths of scored challenges: hand in, quotas, final marks, freeze, reveal, rescore."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit import record
from contests.models import BoardRow, Challenge, Entry, QuotaUsage, RescoreBatch
from teams.models import TeamMembership


class EntryError(ValueError):
    """A hand-in or an action refused; the message is for the participant."""


def event_day(challenge: Challenge, moment: datetime | None = None) -> date:
    """The calendar day in the event's time zone: what 'per day' quotas count."""
    moment = moment or timezone.now()
    return moment.astimezone(ZoneInfo(challenge.event.time_zone)).date()


def competitor_for(challenge: Challenge, user) -> tuple[str, int | None]:
    """Whose entries a user's hand-in joins: their team's at the event, else their own."""
    team_id = (
        TeamMembership.objects.filter(event_id=challenge.event_id, user=user)
        .values_list("team_id", flat=True)
        .first()
    )
    return (f"t{team_id}", team_id) if team_id else (f"u{user.pk}", None)


def _locked_competitor(challenge: Challenge, user) -> str:
    """`competitor_for` again inside the hand-in's transaction, the membership row locked: a
    leave (teams.services.leave_team) deletes that row before it looks for the team's entries,
    so on PostgreSQL one of the two waits for the other and sees what it did."""
    team_id = (
        TeamMembership.objects.select_for_update()
        .filter(event_id=challenge.event_id, user=user)
        .values_list("team_id", flat=True)
        .first()
    )
    return f"t{team_id}" if team_id else f"u{user.pk}"


def closes_at(challenge: Challenge) -> datetime:
    return challenge.closes_at or challenge.event.ends_at


def is_open(challenge: Challenge, moment: datetime | None = None) -> bool:
    """Taking entries and final marks: within the event, before the close, and not revealed (once
    the private board shows, each entry's private score shows too, so entries would probe it)."""
    if challenge.private_revealed_at is not None:
        return False
    moment = moment or timezone.now()
    return challenge.event.starts_at <= moment < closes_at(challenge)


def _take_quota(challenge: Challenge, competitor: str, day: date) -> None:
    """Count one entry against the day's and the total quota, or refuse. Conditional UPDATEs, so
    two hand-ins racing for the last entry of the day cannot both get it."""
    for quota_day, limit, message in (
        (None, challenge.quota_total, _("Your team has used all its entries for this challenge.")),
        (day, challenge.quota_per_day, _("Your team has used today's entries; more tomorrow.")),
    ):
        row, _created = QuotaUsage.objects.get_or_create(
            challenge=challenge, competitor=competitor, day=quota_day
        )
        if not QuotaUsage.objects.filter(pk=row.pk, used__lt=limit).update(used=F("used") + 1):
            raise EntryError(message)


#: How many of a competitor's entries a day may fail "through the platform's fault" and be given
#: back their quota. The harness says which failures are the platform's, and an entry runs in
#: the process that reports; were an entry ever to pass for a platform failure, this bounds what
#: it gains (free scorings) to a few a day. A real outage is mended by a rescore (no quota).
FORGIVEN_PER_DAY = 3


def _forgiven_that_day(entry: Entry) -> int:
    from datetime import time, timedelta

    zone = ZoneInfo(entry.challenge.event.time_zone)
    start = datetime.combine(entry.quota_day, time.min, tzinfo=zone)
    return (
        Entry.objects.filter(
            challenge_id=entry.challenge_id,
            competitor=entry.competitor,
            status=Entry.Status.ERROR,
            quota_day__isnull=True,
            created_at__gte=start,
            created_at__lt=start + timedelta(days=1),
        )
        .exclude(pk=entry.pk)
        .count()
    )


def give_back_quota(entry: Entry) -> None:
    """An entry that failed through the platform's fault counts against nothing (up to
    `FORGIVEN_PER_DAY` of a competitor's entries a day; later ones keep their quota)."""
    if entry.quota_day is None:
        return
    if _forgiven_that_day(entry) >= FORGIVEN_PER_DAY:
        return
    QuotaUsage.objects.filter(
        challenge_id=entry.challenge_id, competitor=entry.competitor, used__gt=0
    ).filter(day__in=[entry.quota_day]).update(used=F("used") - 1)
    QuotaUsage.objects.filter(
        challenge_id=entry.challenge_id,
        competitor=entry.competitor,
        day__isnull=True,
        used__gt=0,
    ).update(used=F("used") - 1)
    Entry.objects.filter(pk=entry.pk).update(quota_day=None)
    entry.quota_day = None


def queue_entry(entry: Entry) -> None:
    """Queue a token for the entry once the row is committed (the worker picks fairly)."""
    from contests.queue import enqueue_token

    transaction.on_commit(enqueue_token)


def submit_entry(challenge: Challenge, user, data: bytes, filename: str = "") -> Entry:
    """Store the file (bytes, hash, time), take quota, then queue it for scoring."""
    if not is_open(challenge):
        raise EntryError(_("This challenge is not taking entries now."))
    if not data:
        raise EntryError(_("The file is empty."))
    if len(data) > settings.KC_CONTEST_ENTRY_BYTES:
        raise EntryError(
            _("The file is larger than %(mb)d MB.")
            % {"mb": settings.KC_CONTEST_ENTRY_BYTES // (1024 * 1024)}
        )
    expected = ".py" if challenge.kind == Challenge.Kind.KERNEL else ".csv"
    if filename and not filename.lower().endswith(expected):
        raise EntryError(_("This challenge takes a %(ext)s file.") % {"ext": expected})
    competitor, team_id = competitor_for(challenge, user)
    now = timezone.now()
    day = event_day(challenge, now)
    with transaction.atomic():
        _take_quota(challenge, competitor, day)
        if _locked_competitor(challenge, user) != competitor:
            # They joined (or left) a team since the look above: the entry would land beside
            # the entries that just moved (contests.merging). Refused whole, quota included.
            raise EntryError(_("Your team changed while you handed this in: hand it in again."))
        entry = Entry.objects.create(
            challenge=challenge,
            team_id=team_id,
            user=user,
            competitor=competitor,
            file=data,
            filename=(filename or f"entry{expected}")[-255:],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            created_at=now,
            queued_at=now,
            quota_day=day,
        )
        queue_entry(entry)
    return entry


def set_final(entry: Entry, final: bool) -> None:
    """Mark or unmark an entry final; the private board follows at once."""
    from contests.boards import refresh_rows

    challenge = entry.challenge
    if entry.is_baseline:
        raise EntryError(_("A baseline is not a team's entry."))
    if not is_open(challenge):
        # Once closed (and above all once revealed, when each entry's private score shows) a
        # team could otherwise pick its final entry by the secret rows.
        raise EntryError(_("This challenge has closed: final marks can no longer change."))
    with transaction.atomic():
        if final:
            marked = Entry.objects.filter(
                challenge=challenge, competitor=entry.competitor, is_final=True
            ).exclude(pk=entry.pk)
            if marked.count() >= challenge.max_final:
                raise EntryError(
                    _("A team may mark at most %(n)d entries final.") % {"n": challenge.max_final}
                )
        Entry.objects.filter(pk=entry.pk).update(is_final=final)
        refresh_rows(challenge, entry.competitor)
        bump_board(challenge)


def bump_board(challenge: Challenge) -> None:
    Challenge.objects.filter(pk=challenge.pk).update(board_version=F("board_version") + 1)


SETTINGS = ("closes_at", "quota_per_day", "quota_total", "selection", "max_final", "public_board")


def change_settings(challenge: Challenge, values: dict) -> None:
    """Save an organizer's settings, then rebuild the boards (the selection rule may change
    which entry stands for a team). A conditional UPDATE: a score landing at the same moment
    keeps its board version."""
    from contests.boards import rebuild_board

    with transaction.atomic():
        Challenge.objects.filter(pk=challenge.pk).update(
            **{name: values[name] for name in SETTINGS if name in values}
        )
        challenge.refresh_from_db()
        rebuild_board(challenge)
    challenge.refresh_from_db()


def set_freeze(challenge: Challenge, freeze_at: datetime | None) -> None:
    """Change the freeze time. Rows scored before it keep showing live; from then on others see
    what stood at the freeze (rows are written as scores land, so moving the time back does not
    rewrite history: a freeze set in the past takes effect from now)."""
    with transaction.atomic():
        before = {"freeze_at": challenge.freeze_at}
        Challenge.objects.filter(pk=challenge.pk).update(freeze_at=freeze_at)
        record(None, "contests.freeze", challenge, before, {"freeze_at": freeze_at})
        if freeze_at is None or freeze_at > timezone.now():
            # Unfrozen (or freezing later): others see the live standings again.
            BoardRow.objects.filter(challenge=challenge).update(
                shown_score=F("score"),
                shown_entry=F("entry"),
                shown_entry_count=F("entry_count"),
                shown_entry_at=F("scored_entry_at"),
            )
        bump_board(challenge)
    challenge.refresh_from_db()


def reveal_private(challenge: Challenge, reveal: bool = True) -> None:
    """Show the private board, or hide it again.

    Refused while a rescore is still running: the private scores would keep changing after
    everyone saw them (hand-ins still queued at the close land as they would on any board). A reveal also closes entries for good
    (`closes_at` moves to the reveal when it was later): everyone has seen each entry's private
    score, so hiding the board again (to rescore a mistake, say) must not let entries probe it.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if reveal:
            rescoring = Entry.objects.filter(
                challenge=locked,
                rescore_batch__isnull=False,
                status__in=[Entry.Status.QUEUED, Entry.Status.RUNNING],
            ).count()
            if rescoring:
                raise EntryError(
                    ngettext(
                        "%(n)d entry is still being rescored: reveal the private board when it "
                        "has landed.",
                        "%(n)d entries are still being rescored: reveal the private board when "
                        "they have landed.",
                        rescoring,
                    )
                    % {"n": rescoring}
                )
        before = {"private_revealed_at": locked.private_revealed_at, "closes_at": locked.closes_at}
        after = {"private_revealed_at": now if reveal else None}
        if reveal and (locked.closes_at is None or locked.closes_at > now):
            after["closes_at"] = now
        Challenge.objects.filter(pk=locked.pk).update(**after)
        record(None, "contests.reveal", locked, before, {**before, **after})
        bump_board(locked)
    challenge.refresh_from_db()


def accept_flagged(entry: Entry) -> None:
    """An organizer reviewed a flagged entry (e.g. 'too-fast') and lets it rank."""
    from contests.boards import refresh_rows

    if entry.status != Entry.Status.SCORED:
        raise EntryError(_("Only a scored entry can be ranked."))
    with transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(ranked=True)
        refresh_rows(entry.challenge, entry.competitor)
        bump_board(entry.challenge)


def rescore(challenge: Challenge, entries, by=None) -> RescoreBatch:
    """Score entries again (one, or a whole challenge) against the current version. Their old
    scores stand on the board until the new ones land; a rescore takes no quota."""
    ids = list(
        entries.exclude(status__in=[Entry.Status.QUEUED, Entry.Status.RUNNING]).values_list(
            "pk", flat=True
        )
    )
    now = timezone.now()
    with transaction.atomic():
        batch = RescoreBatch.objects.create(challenge=challenge, requested_by=by, total=len(ids))
        Entry.objects.filter(pk__in=ids).update(
            status=Entry.Status.QUEUED, queued_at=now, rescore_batch=batch
        )
        from contests.queue import enqueue_token

        for _entry in ids:
            transaction.on_commit(enqueue_token)
    return batch
