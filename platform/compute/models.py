"""GPU profiles, who may use them, GPU-hour allocations, and the session ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from events.models import Event
from learning.models import Cohort
from teams.models import Team


class GpuProfile(models.Model):
    """One kind of session: a full GPU, a MIG slice, or a CPU running CUDA under the simulator."""

    slug = models.SlugField(_("slug"), unique=True)
    display_name = models.CharField(_("display name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    gpu_count = models.PositiveSmallIntegerField(_("GPUs"), default=0)
    mig_slice = models.CharField(
        _("MIG slice"), max_length=32, blank=True, help_text=_('e.g. "1g.18gb"; blank for none')
    )
    memory_limit = models.CharField(_("memory limit"), max_length=16, default="4G")
    cpu_limit = models.FloatField(_("CPU limit"), default=1.0)
    shm_size = models.CharField(_("shared memory (/dev/shm)"), max_length=16, blank=True)
    image = models.CharField(_("container image"), max_length=300, blank=True)
    node_selector = models.JSONField(_("node selector"), default=dict, blank=True)
    slurm_partition = models.CharField(_("Slurm partition"), max_length=64, blank=True)
    cost_weight = models.FloatField(
        _("cost weight"), default=1.0, help_text=_("GPU-hours charged per hour of session")
    )
    idle_timeout_s = models.PositiveIntegerField(_("idle timeout (s)"), default=3600)
    max_age_s = models.PositiveIntegerField(_("maximum age (s)"), default=8 * 3600)
    simulator = models.BooleanField(_("CUDA simulator"), default=False)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("GPU profile")
        verbose_name_plural = _("GPU profiles")

    def __str__(self) -> str:
        return self.display_name

    @property
    def kind(self) -> str:
        if self.simulator or (not self.gpu_count and not self.mig_slice):
            return "cpu"
        return "mig" if self.mig_slice else "gpu"


class ProfileGrant(models.Model):
    """Lets the members of an organization, the people of a cohort, or the teams of an event use
    a profile."""

    profile = models.ForeignKey(GpuProfile, on_delete=models.CASCADE, related_name="grants")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="profile_grants"
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="profile_grants"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False)
                | Q(cohort__isnull=False)
                | Q(event__isnull=False),
                name="profile_grant_has_target",
            )
        ]
        verbose_name = _("profile grant")
        verbose_name_plural = _("profile grants")

    def __str__(self) -> str:
        return f"{self.profile.slug} → {self.cohort or self.event or self.organization}"


class Allocation(models.Model):
    """GPU-hours, granted down organization → cohort or event → user or team.

    Without cohort, event, user and team: an organization's pool. With a cohort: hours handed to
    each of its students (`per_user_gpu_hours`) within a cohort total (`gpu_hours`). With an
    event: the event's pool (`gpu_hours`) and the hours each of its teams gets
    (`per_team_gpu_hours`). With a user: hours for that person. With a team: hours for that team
    on top of its event's share (an organizer's grant)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="gpu_allocations"
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="gpu_allocations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="gpu_allocations",
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="gpu_allocations"
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="gpu_allocations"
    )
    gpu_hours = models.FloatField(_("GPU-hours"))
    per_user_gpu_hours = models.FloatField(_("GPU-hours per student"), null=True, blank=True)
    per_team_gpu_hours = models.FloatField(_("GPU-hours per team"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cohort__isnull=True) | Q(event__isnull=True),
                name="allocation_cohort_or_event",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(team__isnull=True),
                name="allocation_user_or_team",
            ),
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(event__isnull=False),
                name="allocation_team_within_event",
            ),
        ]
        verbose_name = _("GPU allocation")
        verbose_name_plural = _("GPU allocations")

    def __str__(self) -> str:
        target = self.team or self.user or self.event or self.cohort or self.organization
        return f"{self.gpu_hours:g} GPU-h → {target}"


class HubSession(models.Model):
    """One server's life: the ledger row that GPU-seconds are charged to."""

    class Status(models.TextChoices):
        STARTING = "starting", _("Starting")
        RUNNING = "running", _("Running")
        STOPPING = "stopping", _("Stopping")
        STOPPED = "stopped", _("Stopped")
        FAILED = "failed", _("Failed to start")

    class Origin(models.TextChoices):
        SITE = "site", _("Started by the site")
        HUB = "hub", _("Found running on the hub")

    ACTIVE = (Status.STARTING, Status.RUNNING, Status.STOPPING)
    # A stopping server no longer counts as the user's session: a new launch may wait for it.
    LIVE = (Status.STARTING, Status.RUNNING)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_sessions"
    )
    profile = models.ForeignKey(
        GpuProfile, on_delete=models.PROTECT, null=True, related_name="sessions"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set when a team member launched on the team's budget: the charge is the team's and its
    # event's, never the member's own. The event stays when a disbanded team goes.
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="hub_sessions"
    )
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="hub_sessions"
    )
    hub_username = models.CharField(max_length=150)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STARTING)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.SITE)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    hub_started = models.CharField(max_length=64, blank=True, help_text="the hub's `started`")
    cost_weight = models.FloatField(default=1.0)
    charged_seconds = models.FloatField(_("charged GPU-seconds"), default=0)
    delivered = models.JSONField(default=list, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One server per user: a double click cannot start two. A launch while the last
            # server is still stopping is allowed; it waits for the hub to finish the stop.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["starting", "running"]),
                name="one_live_session_per_user",
            )
        ]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"#{self.pk} {self.hub_username} {self.profile_id} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    def runtime_seconds(self, now=None) -> float:
        """Seconds from the hub's start of the server to its stop (or to now while it runs);
        the charge is this times the weight (compute.ledger)."""
        if self.started_at is None:
            return 0.0
        end = self.stopped_at or now or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())
