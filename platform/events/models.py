"""Hackathons and workshops run as events: phases, tracks, prizes, announcements, registration."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, ProtectedCountersMixin, validate_time_zone


def _first_content_version() -> int:
    """Random, so an event made again under a reused id (tests roll back) never meets the cached
    page parts of the one before it."""
    import secrets

    return secrets.randbits(62)


class Event(ProtectedCountersMixin, models.Model):
    # content_version changes only through UPDATE ... + 1 (events.signals), never a stale save.
    protected_counters = ("seats_taken", "content_version")

    class RegistrationMode(models.TextChoices):
        OPEN = "open", _("Open to anyone signed in")
        INVITE = "invite", _("By invite code")

    slug = models.SlugField(_("slug"), unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="events")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    rules = models.TextField(_("rules"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Seoul", validators=[validate_time_zone]
    )
    registration_mode = models.CharField(
        _("registration"),
        max_length=8,
        choices=RegistrationMode.choices,
        default=RegistrationMode.OPEN,
    )
    invite_code = models.CharField(_("invite code"), max_length=32, blank=True)
    seat_limit = models.PositiveIntegerField(_("seat limit"), null=True, blank=True)
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0)
    team_size_min = models.PositiveIntegerField(_("smallest team"), default=1)
    team_size_max = models.PositiveIntegerField(_("largest team"), default=4)
    team_lock_at = models.DateTimeField(
        _("teams lock at"),
        null=True,
        blank=True,
        help_text=_("After this moment nobody joins or leaves a team; organizers still can."),
    )
    judges_per_project = models.PositiveIntegerField(_("judges per project"), default=2)
    results_published_at = models.DateTimeField(_("results published at"), null=True, blank=True)
    # Raised whenever its phases, tracks, prizes, announcements or organization change, so the
    # event page's cached parts (events.selectors.event_page_parts) are found again only while
    # they are true; the event row is read on every event page anyway.
    content_version = models.BigIntegerField(default=_first_content_version, editable=False)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title


class EventRole(models.Model):
    """A person's part in one event."""

    class Role(models.TextChoices):
        ORGANIZER = "organizer", _("Organizer")
        MENTOR = "mentor", _("Mentor")
        JUDGE = "judge", _("Judge")
        PARTICIPANT = "participant", _("Participant")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_roles"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "user", "role"], name="one_role_of_a_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.event}"


class Phase(models.Model):
    """One stretch of the event, stored in UTC and shown in the event's time zone."""

    class Kind(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        HACKING = "hacking", _("Hacking")
        SUBMISSION = "submission", _("Final submission")
        JUDGING = "judging", _("Judging")
        RESULTS = "results", _("Results")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(_("phase"), max_length=16, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="one_phase_of_a_kind"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="phase_ends_after_start"
            ),
        ]
        verbose_name = _("phase")
        verbose_name_plural = _("phases")

    def __str__(self) -> str:
        return f"{self.event}: {self.get_kind_display()}"


class Track(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("track")
        verbose_name_plural = _("tracks")

    def __str__(self) -> str:
        return self.name


class Prize(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="prizes")
    track = models.ForeignKey(
        Track, on_delete=models.SET_NULL, null=True, blank=True, related_name="prizes"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rank = models.PositiveIntegerField(_("rank"), default=1)

    class Meta:
        ordering = ["track__name", "rank"]
        verbose_name = _("prize")
        verbose_name_plural = _("prizes")

    def __str__(self) -> str:
        return self.title


class Announcement(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="announcements")
    body = models.TextField(_("announcement"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")

    def __str__(self) -> str:
        return self.body[:60]


class Registration(models.Model):
    """A seat at the event. The participant role comes with it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_registrations"
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="one_registration_per_person")
        ]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")

    def __str__(self) -> str:
        return f"{self.user} @ {self.event}"
