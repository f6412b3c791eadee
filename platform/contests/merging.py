"""Entries follow their people into a team, as on Kaggle when teams merge.

`teams.services` calls `entries_join_team` in the transaction that puts a participant in a team
(create, join) or moves a whole team into another (the organizer's merge). For every challenge
of the event, the joining competitors' entries (a solo participant's "u<id>", a merged team's
"t<id>") become the team's: their `competitor` and `team` change, their quota usage is added to
the team's, their board rows are removed, the team's rows are computed again and the board
version is raised. Teams only ever see `MergeRefused`.

The quota rule (docs/challenges.md, "Teams and entries"): a participant may not join a team when,
on any challenge where both have handed in, the entries together are more than one team may hand
in (`quota_total`); they would otherwise have handed in more than any team could. A day's usage
is added up too, but never refuses: the team may simply have nothing left that day. An
organizer's merge of two teams is not refused (organizers may go past limits, as with the team
size); the merged team has what is left of the quota, or nothing.

Leaving or being split off a team takes no entries along: they stay the team's. So that a fresh
lane is no way around the quota (issue 12), a member may not leave a team that has handed in
(`team_has_handed_in`, as on Kaggle), and an organizer's split or disband hands the team's quota
usage to every lane it makes (`quota_follows_out`): the new team, or each member alone.
"""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext as _

from audit import record
from contests.boards import refresh_rows
from contests.models import BoardRow, Challenge, Entry, QuotaUsage
from contests.services import bump_board


class MergeRefused(ValueError):
    """The entries together are more than one team may hand in; the message is the joiner's."""


def _check_quota(challenge: Challenge, target: str, sources: list[str]) -> None:
    used = dict(
        QuotaUsage.objects.filter(
            challenge=challenge, day__isnull=True, competitor__in=[target, *sources]
        ).values_list("competitor", "used")
    )
    together = sum(used.values())
    if sum(1 for n in used.values() if n) > 1 and together > challenge.quota_total:
        raise MergeRefused(
            _(
                "Together you have handed in %(n)d entries for the challenge %(title)s, and a team"
                " may hand in %(max)d: you cannot join this team."
            )
            % {"n": together, "title": challenge.title, "max": challenge.quota_total}
        )


def _keep_final_marks(challenge: Challenge, target: str, moving) -> None:
    """The team's own final marks stay; the joiners' stay while there is room (newest first)."""
    marked = list(
        moving.filter(is_final=True).order_by("-created_at", "-pk").values_list("pk", flat=True)
    )
    if not marked:
        return
    kept = Entry.objects.filter(challenge=challenge, competitor=target, is_final=True).count()
    room = max(0, challenge.max_final - kept)
    Entry.objects.filter(pk__in=marked[room:]).update(is_final=False)


def _move_quota(challenge: Challenge, target: str, sources: list[str]) -> None:
    rows = QuotaUsage.objects.filter(challenge=challenge, competitor__in=sources)
    for day, used in rows.values_list("day", "used"):
        row, _created = QuotaUsage.objects.get_or_create(
            challenge=challenge, competitor=target, day=day
        )
        QuotaUsage.objects.filter(pk=row.pk).update(used=F("used") + used)
    rows.delete()


def entries_join_team(team, competitors: list[str], *, check_quota: bool = True) -> int:
    """Make `competitors`' entries at the team's event the team's. Call inside the transaction
    that changes the membership; raises `MergeRefused` (before anything moves) when the quota
    rule refuses. Returns how many entries moved."""
    target = f"t{team.pk}"
    sources = [c for c in dict.fromkeys(competitors) if c != target]
    if not sources:
        return 0
    in_event = {"challenge__event_id": team.event_id, "competitor__in": sources}
    ids = set(Entry.objects.filter(**in_event).values_list("challenge_id", flat=True))
    ids |= set(QuotaUsage.objects.filter(**in_event).values_list("challenge_id", flat=True))
    ids |= set(BoardRow.objects.filter(**in_event).values_list("challenge_id", flat=True))
    if not ids:
        return 0
    # Locks in the order the scoring transaction takes them (entries, then quota rows, then the
    # challenge's board version), so a score landing during the join waits instead of
    # deadlocking on PostgreSQL; SQLite's IMMEDIATE transactions serialize both anyway.
    mine = [target, *sources]
    list(
        Entry.objects.select_for_update()
        .filter(challenge_id__in=ids, competitor__in=mine)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(
        QuotaUsage.objects.select_for_update()
        .filter(challenge_id__in=ids, competitor__in=mine)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    challenges = list(
        Challenge.objects.defer("bundle", "statement", "statement_ko", "manifest")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if check_quota:
        for challenge in challenges:
            _check_quota(challenge, target, sources)
    moved = 0
    for challenge in challenges:
        moving = Entry.objects.filter(challenge=challenge, competitor__in=sources)
        _keep_final_marks(challenge, target, moving)
        moved += moving.update(competitor=target, team=team)
        _move_quota(challenge, target, sources)
        BoardRow.objects.filter(challenge=challenge, competitor__in=sources).delete()
        refresh_rows(challenge, target)
        bump_board(challenge)
    record(
        None,
        "contests.entries_join_team",
        team,
        {"competitors": sources},
        {"competitor": target, "entries": moved, "challenges": sorted(ids)},
    )
    return moved


def team_has_handed_in(team) -> bool:
    """Whether the team has an entry (any status) on a challenge of its event: its members may
    then no longer leave it (they would start again from a whole quota, alone or in a new team)."""
    return Entry.objects.filter(
        challenge__event_id=team.event_id, competitor=f"t{team.pk}", is_baseline=False
    ).exists()


def quota_follows_out(team, competitors: list[str]) -> None:
    """An organizer split `team` (or disbanded it): each of `competitors` (the new team "t<id>",
    or the members' solo lanes "u<id>") has used, on every challenge, at least what the team had
    used, that day and in total. The entries stay the team's; only the count follows, so a split
    is never a way to a fresh quota."""
    rows = list(
        QuotaUsage.objects.filter(
            challenge__event_id=team.event_id, competitor=f"t{team.pk}", used__gt=0
        ).values_list("challenge_id", "day", "used")
    )
    for competitor in competitors:
        for challenge_id, day, used in rows:
            row, _created = QuotaUsage.objects.get_or_create(
                challenge_id=challenge_id, competitor=competitor, day=day
            )
            QuotaUsage.objects.filter(pk=row.pk, used__lt=used).update(used=used)
