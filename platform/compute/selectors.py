"""Reads: which profiles a user may use, how many GPU-hours they have and have used."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
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


def usable_profiles(user) -> QuerySet[GpuProfile]:
    active = GpuProfile.objects.filter(active=True)
    if user.is_staff:
        return active
    return active.filter(
        Q(grants__cohort_id__in=_cohort_ids(user))
        | Q(grants__organization_id__in=_organization_ids(user))
    ).distinct()


def may_use(user, profile: GpuProfile) -> bool:
    return usable_profiles(user).filter(pk=profile.pk).exists()


def live_charge(session: HubSession, now=None) -> float:
    return ledger.live_charge(session, now)


def used_gpu_hours(user, now=None) -> float:
    closed = (
        HubSession.objects.filter(user=user)
        .exclude(status__in=HubSession.ACTIVE)
        .aggregate(total=Sum("charged_seconds"))["total"]
        or 0.0
    )
    active = sum(
        ledger.live_charge(s, now)
        for s in HubSession.objects.filter(user=user, status__in=HubSession.ACTIVE)
    )
    return (closed + active) / 3600


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
        organization_id=organization_id, cohort__isnull=True, user__isnull=True
    )
    if not pools.exists():
        return None
    return pools.aggregate(t=Sum("gpu_hours"))["t"] or 0.0


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


def budget_for(user, now=None) -> Budget:
    now = now or timezone.now()
    org = charged_organization(user)
    pool_left = None
    if org is not None:
        pool = organization_pool_hours(org)
        if pool is not None:
            pool_left = pool - organization_used_hours(org, now)
    return Budget(
        granted=granted_gpu_hours(user), used=used_gpu_hours(user, now), pool_left=pool_left
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
