"""Help requests: a participant or student asks, a mentor or TA claims, resolves or hands back.

A queue belongs to an event or to a cohort. States change only by conditional UPDATEs in
helpqueue.services, so two mentors claiming one request at once cannot both win.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from events.models import Event
from learning.models import Cohort


class HelpRequest(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        CLAIMED = "claimed", _("Being helped")
        RESOLVED = "resolved", _("Resolved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN = (Status.WAITING, Status.CLAIMED)

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="help_requests"
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="help_requests"
    )
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="help_requests"
    )
    topic = models.CharField(_("what you need help with"), max_length=200)
    location = models.CharField(_("where you are"), max_length=120)
    notebook_link = models.URLField(_("link to your notebook"), max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    # The queue's order: a request handed back keeps its place.
    created_at = models.DateTimeField(_("asked at"))
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    first_claimed_at = models.DateTimeField(null=True, blank=True)  # the wait ends here
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handed_back = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(event__isnull=False) & Q(cohort__isnull=True))
                | (Q(event__isnull=True) & Q(cohort__isnull=False)),
                name="help_request_in_one_queue",
            ),
            # One open request per person per queue: a double click cannot ask twice.
            models.UniqueConstraint(
                fields=["asker", "event"],
                condition=Q(status__in=["waiting", "claimed"], event__isnull=False),
                name="one_open_help_request_per_event",
            ),
            models.UniqueConstraint(
                fields=["asker", "cohort"],
                condition=Q(status__in=["waiting", "claimed"], cohort__isnull=False),
                name="one_open_help_request_per_cohort",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic[:40]} ({self.status})"

    @property
    def owner(self):
        """The event or cohort whose queue this is."""
        return self.event if self.event_id else self.cohort

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
