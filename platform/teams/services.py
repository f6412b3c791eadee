"""Writes for teams: create, join by code, leave, and the organizer's merge, split and disband.

A participant's solo contest entries, or a merged team's, become the team's in the same
transaction (`contests.merging.entries_join_team`, Kaggle's team merge); a join it refuses (the
entries together are more than one team may hand in) is refused whole. Leaving or a split takes no
entries along, so a member may not leave a team that has handed in, and a split or disband
hands the team's quota usage to every new lane (Kaggle's rule; docs/challenges.md).

The one-team-per-person rule is the database's (`one_team_per_person_per_event`); the size limit
is one conditional UPDATE on `Team.member_count`, like the cohort seat limit.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Event, Registration
from teams.models import LookingForTeam, Team, TeamMembership

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class TeamError(ValueError):
    pass


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def teams_locked(event: Event, now=None) -> bool:
    now = now or timezone.now()
    return event.team_lock_at is not None and now >= event.team_lock_at


def _check_may_change(event: Event, user, now=None) -> None:
    if not Registration.objects.filter(event=event, user=user).exists():
        raise TeamError(_("Register for the event first."))
    if teams_locked(event, now):
        raise TeamError(_("Teams are locked for this event."))


def _add_member(team: Team, user, *, enforce_size: bool = True) -> TeamMembership:
    seats = Team.objects.filter(pk=team.pk)
    if enforce_size:
        seats = seats.filter(member_count__lt=team.event.team_size_max)
    if seats.update(member_count=F("member_count") + 1) != 1:
        raise TeamError(_("This team is full."))
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(team=team, event=team.event, user=user)
    except IntegrityError as exc:
        Team.objects.filter(pk=team.pk).update(member_count=F("member_count") - 1)
        raise TeamError(_("You are already in a team at this event.")) from exc
    LookingForTeam.objects.filter(event=team.event, user=user).delete()
    return membership


def _entries_follow(team: Team, competitors: list[str], *, check_quota: bool = True) -> None:
    """The joiners' contest entries at the event become the team's (contests owns how)."""
    from contests.merging import MergeRefused, entries_join_team

    try:
        entries_join_team(team, competitors, check_quota=check_quota)
    except MergeRefused as exc:
        raise TeamError(str(exc)) from exc


def _remove_member(membership: TeamMembership) -> None:
    Team.objects.filter(pk=membership.team_id).update(member_count=F("member_count") - 1)
    membership.delete()


def create_team(event: Event, user, name: str, *, now=None) -> Team:
    _check_may_change(event, user, now)
    name = name.strip()
    if not name:
        raise TeamError(_("A team needs a name."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                team = Team.objects.create(event=event, name=name, join_code=new_join_code())
        except IntegrityError as exc:
            raise TeamError(_("There is already a team called %(name)s.") % {"name": name}) from exc
        _add_member(team, user)
        _entries_follow(team, [f"u{user.pk}"])
    return team


def join_team(user, code: str, *, now=None) -> Team:
    team = Team.objects.select_related("event").filter(join_code=code.strip().upper()).first()
    if team is None:
        raise TeamError(_("There is no team with this code."))
    if TeamMembership.objects.filter(team=team, user=user).exists():
        return team
    _check_may_change(team.event, user, now)
    with transaction.atomic():
        _add_member(team, user)
        _entries_follow(team, [f"u{user.pk}"])
    return team


@transaction.atomic
def leave_team(event: Event, user, *, now=None) -> None:
    if teams_locked(event, now):
        raise TeamError(_("Teams are locked for this event."))
    membership = TeamMembership.objects.filter(event=event, user=user).first()
    if membership is None:
        raise TeamError(_("You are not in a team."))
    team = membership.team
    # The membership goes first, then the look at the team's entries: a hand-in racing the leave
    # either locked the membership row first (its entry is seen here) or finds it gone and is
    # refused (contests.services.submit_entry).
    _remove_member(membership)
    if has_handed_in(team):
        raise TeamError(
            _(
                "Your team has handed in entries: you can no longer leave it (an organizer can"
                " still change teams)."
            )
        )
    if not team.memberships.exists():
        team.delete()


def has_handed_in(team: Team) -> bool:
    from contests.merging import team_has_handed_in

    return team_has_handed_in(team)


def _quota_follows_out(team: Team, competitors: list[str]) -> None:
    from contests.merging import quota_follows_out

    quota_follows_out(team, competitors)


@transaction.atomic
def disband_team(team: Team) -> None:
    """Organizers only (checked by the view): everyone goes back to having no team, each with
    what the team had used of the contest quotas."""
    members = team.memberships.values_list("user_id", flat=True)
    _quota_follows_out(team, [f"u{pk}" for pk in members])
    team.delete()


@transaction.atomic
def merge_teams(into: Team, other: Team) -> Team:
    """Move every member of `other` into `into` and remove `other`; organizers may go past the
    size limit, deliberately, and past the contest quotas (the merged team has what is left).
    `other`'s contest entries, and any solo ones of either team's members, become `into`'s."""
    if into.pk == other.pk or into.event_id != other.event_id:
        raise TeamError(_("Pick two different teams of the same event."))
    members = TeamMembership.objects.filter(team__in=[into, other]).values_list(
        "user_id", flat=True
    )
    _entries_follow(into, [f"t{other.pk}", *(f"u{pk}" for pk in members)], check_quota=False)
    moved = TeamMembership.objects.filter(team=other).update(team=into)
    Team.objects.filter(pk=into.pk).update(member_count=F("member_count") + moved)
    other.delete()
    into.refresh_from_db()
    return into


@transaction.atomic
def split_team(team: Team, user_ids: list[int], new_name: str) -> Team:
    """Move the chosen members of `team` into a new team called `new_name`, which starts with
    what `team` had used of the contest quotas (the entries stay `team`'s)."""
    members = TeamMembership.objects.filter(team=team, user_id__in=user_ids)
    count = members.count()
    if count == 0 or count == team.memberships.count():
        raise TeamError(_("Choose some, but not all, of the team's members."))
    name = new_name.strip()
    if not name or Team.objects.filter(event=team.event, name=name).exists():
        raise TeamError(_("Give the new team a name no other team has."))
    new_team = Team.objects.create(event=team.event, name=name, join_code=new_join_code())
    members.update(team=new_team)
    _quota_follows_out(team, [f"t{new_team.pk}"])
    Team.objects.filter(pk=team.pk).update(member_count=F("member_count") - count)
    Team.objects.filter(pk=new_team.pk).update(member_count=count)
    new_team.refresh_from_db()
    return new_team


def set_looking(event: Event, user, note: str | None) -> None:
    """Say (note is a string) or unsay (note is None) that `user` is looking for a team."""
    if note is None:
        LookingForTeam.objects.filter(event=event, user=user).delete()
        return
    if TeamMembership.objects.filter(event=event, user=user).exists():
        raise TeamError(_("You are already in a team at this event."))
    if not Registration.objects.filter(event=event, user=user).exists():
        raise TeamError(_("Register for the event first."))
    LookingForTeam.objects.update_or_create(
        event=event, user=user, defaults={"note": note.strip()[:300]}
    )
