"""People and the organizations they belong to."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Organization(models.Model):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("University")
        COMPANY = "company", _("Company")
        STARTUP = "startup", _("Startup")
        PUBLIC_INSTITUTE = "public_institute", _("Public institute")

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person. Roles are held per object (course, cohort, event), never on the user row."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=settings.DEFAULT_USER_TIME_ZONE,
        validators=[validate_time_zone],
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="", blank=True
    )

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class OrganizationMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ADMIN = "admin", _("Administrator")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]
        verbose_name = _("organization membership")
        verbose_name_plural = _("organization memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class RateLimitHit(models.Model):
    """One counted attempt (a failed sign-in, a submission) under a key such as `login-ip:1.2.3.4`.

    In the database rather than a per-process cache, so that a limit holds across every web
    worker and replica. See accounts.ratelimit.
    """

    key = models.CharField(_("key"), max_length=255)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="ratelimit_key_at")]
        verbose_name = _("rate-limit hit")
        verbose_name_plural = _("rate-limit hits")

    def __str__(self) -> str:
        return f"{self.key} @ {self.at:%Y-%m-%d %H:%M:%S}"


class ExternalIdentity(models.Model):
    """An account at the institution's OpenID Connect provider, linked to a KernelCamp user.

    Linked on the first sign-in by a verified email address (or by an operator), then found by
    the provider's stable subject, so a later change of address does not lose the account.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.CharField(_("issuer"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_subject")
        ]
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")

    def __str__(self) -> str:
        return f"{self.user} = {self.subject} @ {self.issuer}"


class ProtectedCountersMixin:
    """For models whose counters (a seat count) change only through conditional UPDATEs.

    A plain ``save()`` of a stale instance would write its old count back over them, so a full
    save leaves the fields named in ``protected_counters`` out.
    """

    protected_counters: tuple[str, ...] = ("seats_taken",)

    def save(self, *args, **kwargs):
        if (
            self.pk is not None
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
        ):
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.protected_counters
            ]
        super().save(*args, **kwargs)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)
