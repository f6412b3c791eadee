"""Reads: which profiles a user may use, how many GPU-hours they have and have used."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from compute import ledger
from compute.models import Allocation, GpuProfile, HubSession
from learning.models import Cohort


def _cohort_ids(user) -> list[int]:
    return list(Cohort.objects.filter(enrolments__user=user).values_list("pk", flat=True))


def _organization_ids(user) -> set[int]:
    ids = set(user.organization_memberships.values_list("organization_id", flat=True))
    ids.update(
        Cohort.objects.filter(enrolments__user=user, course__organization__isnull=False)
        .values_list("course__organization_id", flat=True)
        .distinct()
    )
    return ids


def _team_event_ids(user) -> list[int]:
    from teams.models import TeamMembership

    return list(TeamMembership.objects.filter(user=user).values_list("event_id", flat=True))


def usable_profiles(user) -> QuerySet[GpuProfile]:
    active = GpuProfile.objects.filter(active=True)
    if user.is_staff:
        return active
    return active.filter(
        Q(grants__cohort_id__in=_cohort_ids(user))
        | Q(grants__organization_id__in=_organization_ids(user))
        | Q(grants__event_id__in=_team_event_ids(user))
    ).distinct()


def may_use(user, profile: GpuProfile) -> bool:
    return usable_profiles(user).filter(pk=profile.pk).exists()


def live_charge(session: HubSession, now=None) -> float:
    return ledger.live_charge(session, now)


def _used_hours(sessions: QuerySet[HubSession], now=None) -> float:
    closed = (
        sessions.exclude(status__in=HubSession.ACTIVE).aggregate(total=Sum("charged_seconds"))[
            "total"
        ]
        or 0.0
    )
    active = sum(ledger.live_charge(s, now) for s in sessions.filter(status__in=HubSession.ACTIVE))
    return (closed + active) / 3600


def used_gpu_hours(user, now=None) -> float:
    """A person's own use: sessions charged to a team (at an event) are not theirs."""
    return _used_hours(HubSession.objects.filter(user=user, event__isnull=True), now)


def granted_gpu_hours(user) -> float:
    personal = Allocation.objects.filter(user=user).aggregate(t=Sum("gpu_hours"))["t"] or 0.0
    per_cohort = (
        Allocation.objects.filter(cohort_id__in=_cohort_ids(user), user__isnull=True).aggregate(
            t=Sum("per_user_gpu_hours")
        )["t"]
        or 0.0
    )
    return personal + per_cohort


def organization_used_hours(organization_id: int, now=None) -> float:
    rows = HubSession.objects.filter(organization_id=organization_id)
    return sum(ledger.live_charge(s, now) for s in rows) / 3600


def organization_pool_hours(organization_id: int) -> float | None:
    pools = Allocation.objects.filter(
        organization_id=organization_id,
        cohort__isnull=True,
        event__isnull=True,
        user__isnull=True,
        team__isnull=True,
    )
    if not pools.exists():
        return None
    return pools.aggregate(t=Sum("gpu_hours"))["t"] or 0.0


def team_granted_gpu_hours(team) -> float:
    """The event's share for each team plus the organizers' grants to this team."""
    share = (
        Allocation.objects.filter(event_id=team.event_id, team__isnull=True).aggregate(
            t=Sum("per_team_gpu_hours")
        )["t"]
        or 0.0
    )
    extra = Allocation.objects.filter(team=team).aggregate(t=Sum("gpu_hours"))["t"] or 0.0
    return share + extra


def event_pool_hours(event_id: int) -> float | None:
    """What the organization granted the event in all (None: no event allocation, no cap)."""
    pools = Allocation.objects.filter(event_id=event_id, team__isnull=True)
    if not pools.exists():
        return None
    return pools.aggregate(t=Sum("gpu_hours"))["t"] or 0.0


def event_used_hours(event_id: int, now=None) -> float:
    return _used_hours(HubSession.objects.filter(event_id=event_id), now)


def team_charged_organization(team) -> int:
    grant = Allocation.objects.filter(event_id=team.event_id).order_by("pk").first()
    return grant.organization_id if grant else team.event.organization_id


def charged_organization(user) -> int | None:
    """Whose pool a session draws from: the user's own grant first, then a cohort grant."""
    personal = Allocation.objects.filter(user=user).order_by("pk").first()
    if personal:
        return personal.organization_id
    cohort_grant = (
        Allocation.objects.filter(cohort_id__in=_cohort_ids(user), user__isnull=True)
        .order_by("pk")
        .first()
    )
    return cohort_grant.organization_id if cohort_grant else None


@dataclass
class Budget:
    granted: float
    used: float
    pool_left: float | None

    @property
    def left(self) -> float:
        left = self.granted - self.used
        if self.pool_left is not None:
            left = min(left, self.pool_left)
        return max(0.0, left)

    @property
    def fraction_used(self) -> float:
        return 1.0 if self.granted <= 0 else min(1.0, self.used / self.granted)


def _pool_left(org: int | None, now) -> float | None:
    if org is None:
        return None
    pool = organization_pool_hours(org)
    return None if pool is None else pool - organization_used_hours(org, now)


def budget_for(user, now=None) -> Budget:
    now = now or timezone.now()
    return Budget(
        granted=granted_gpu_hours(user),
        used=used_gpu_hours(user, now),
        pool_left=_pool_left(charged_organization(user), now),
    )


def team_budget(team, now=None) -> Budget:
    """The team's hours, capped by what is left of its event's pool and its organization's."""
    now = now or timezone.now()
    pools = [_pool_left(team_charged_organization(team), now)]
    event_pool = event_pool_hours(team.event_id)
    if event_pool is not None:
        pools.append(event_pool - event_used_hours(team.event_id, now))
    known = [p for p in pools if p is not None]
    return Budget(
        granted=team_granted_gpu_hours(team),
        used=_used_hours(HubSession.objects.filter(team=team), now),
        pool_left=min(known) if known else None,
    )


def budget_for_session(session: HubSession, now=None) -> Budget:
    """The budget a session draws on: its team's when launched on one, else its owner's."""
    if session.team_id is not None:
        return team_budget(session.team, now)
    return budget_for(session.user, now)


def team_groups(user) -> set[str]:
    """The hub groups that give the user's teams their shared folders (`kc-team-<id>`)."""
    from compute.backends import TEAM_GROUP_PREFIX
    from teams.models import TeamMembership

    ids = TeamMembership.objects.filter(user=user).values_list("team_id", flat=True)
    return {f"{TEAM_GROUP_PREFIX}{pk}" for pk in ids}


def budget_teams(user, now=None) -> list:
    """The user's teams that have GPU-hours to launch on: a team at an event that has not
    ended, with an event allocation or a grant of its own."""
    from teams.models import Team

    funded_events = Allocation.objects.filter(event__isnull=False, team__isnull=True).values(
        "event_id"
    )
    funded_teams = Allocation.objects.filter(team__isnull=False).values("team_id")
    return list(
        Team.objects.filter(memberships__user=user, event__ends_at__gt=now or timezone.now())
        .filter(Q(event_id__in=funded_events) | Q(pk__in=funded_teams))
        .select_related("event")
    )


def live_session(user) -> HubSession | None:
    """The user's one starting or running session."""
    return (
        HubSession.objects.filter(user=user, status__in=HubSession.LIVE)
        .select_related("profile")
        .first()
    )


def stopping_session(user) -> HubSession | None:
    """The user's last session while the hub is still stopping it."""
    return HubSession.objects.filter(user=user, status=HubSession.Status.STOPPING).first()


def session_history(user, limit: int | None = None) -> QuerySet[HubSession]:
    rows = HubSession.objects.filter(user=user).select_related("profile")
    return rows[:limit] if limit else rows


@dataclass
class UsageRow:
    """One session as the usage pages and CSV show it (charged seconds up to now while active)."""

    session: HubSession
    runtime_seconds: float
    charged_seconds: float


def usage_rows(sessions: list[HubSession], now=None) -> list[UsageRow]:
    now = now or timezone.now()
    return [UsageRow(s, s.runtime_seconds(now), ledger.live_charge(s, now)) for s in sessions]


def charge_per_user(sessions: list[HubSession], now=None) -> dict[str, float]:
    """GPU-seconds charged per username."""
    totals: dict[str, float] = {}
    for s in sessions:
        key = s.user.get_username()
        totals[key] = totals.get(key, 0.0) + ledger.live_charge(s, now)
    return totals


@dataclass
class TeamGpuRow:
    team: object
    budget: Budget
    running: int


def event_gpu_use(event, now=None) -> dict:
    """The organizer's view of an event's GPU-hours: the pool, and each team's share and use."""
    now = now or timezone.now()
    running = dict(
        HubSession.objects.filter(event=event, status__in=HubSession.LIVE)
        .order_by()
        .values_list("team_id")
        .annotate(n=Count("pk"))
    )
    rows = [
        TeamGpuRow(team, team_budget(team, now), running.get(team.pk, 0))
        for team in event.teams.all()
    ]
    pool = event_pool_hours(event.pk)
    used = event_used_hours(event.pk, now)
    return {
        "pool": pool,
        "used": used,
        "left": None if pool is None else max(0.0, pool - used),
        "running": sum(running.values()),
        "teams": rows,
    }
