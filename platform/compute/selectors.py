"""Reads: which profiles a user may use, how many GPU-hours they have and have used."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

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
    """GPU-seconds × weight, counting a running session up to now."""
    if session.status == HubSession.Status.RUNNING and session.stopped_at is None:
        return session.runtime_seconds(now) * session.cost_weight
    return session.charged_seconds


def used_gpu_hours(user, now=None) -> float:
    closed = (
        HubSession.objects.filter(user=user)
        .exclude(status=HubSession.Status.RUNNING)
        .aggregate(total=Sum("charged_seconds"))["total"]
        or 0.0
    )
    running = sum(
        live_charge(s, now)
        for s in HubSession.objects.filter(user=user, status=HubSession.Status.RUNNING)
    )
    return (closed + running) / 3600


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
    return sum(live_charge(s, now) for s in rows) / 3600


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


def active_session(user) -> HubSession | None:
    return (
        HubSession.objects.filter(user=user, status__in=HubSession.ACTIVE)
        .select_related("profile")
        .first()
    )
