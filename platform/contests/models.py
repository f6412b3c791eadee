"""Scored challenges at an event: the published challenge, entries, quotas and the boards.

Board rows are materialized: `BoardRow` is written in the same transaction as the score that
changes it (`contests.scoring.record_result`), and board pages read only that table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Event
from teams.models import Team

#: How a predictions challenge's metric reads on a page (the manifest names it in snake case).
METRIC_LABELS = {
    "accuracy": _("accuracy"),
    "macro_f1": _("macro-F1"),
    "rmse": "RMSE",
    "mae": "MAE",
    "log_loss": _("log-loss"),
    "roc_auc": "ROC AUC",
}


class Challenge(models.Model):
    """A challenge folder (`challenges/<slug>/`) published to one event. The folder is kept
    whole as a tar archive (`bundle`), so scoring never depends on the checkout's current files."""

    class Kind(models.TextChoices):
        KERNEL = "kernel", _("Kernel")
        PREDICTIONS = "predictions", _("Predictions")

    class RankedBy(models.TextChoices):
        SPEEDUP = "speedup", _("Speed-up over the reference")
        CORRECTNESS = "correctness", _("Correctness only")
        METRIC = "metric", _("Metric")

    class Selection(models.TextChoices):
        BEST = "best", _("Best entry per team")
        FINAL = "final", _("Entries the team marks final")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="challenges")
    slug = models.SlugField(_("slug"))
    title = models.CharField(_("title"), max_length=200)
    title_ko = models.CharField(_("Korean title"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    ranked_by = models.CharField(
        _("ranked by"), max_length=16, choices=RankedBy.choices, default=RankedBy.SPEEDUP
    )
    metric = models.CharField(_("metric"), max_length=40, blank=True)
    higher_is_better = models.BooleanField(default=True)
    device = models.CharField(_("device"), max_length=16, blank=True)
    statement = models.TextField(_("statement"), blank=True)
    statement_ko = models.TextField(_("Korean statement"), blank=True)
    manifest = models.JSONField(default=dict)
    bundle = models.BinaryField(_("challenge folder (tar)"))
    bundle_sha256 = models.CharField(max_length=64)
    version = models.PositiveIntegerField(_("version"), default=1)
    published_at = models.DateTimeField(_("published at"))
    closes_at = models.DateTimeField(
        _("closes at"), null=True, blank=True, help_text=_("Empty: when the event ends.")
    )
    quota_per_day = models.PositiveIntegerField(_("entries per team per day"), default=10)
    quota_total = models.PositiveIntegerField(_("entries per team in total"), default=100)
    selection = models.CharField(
        _("private board uses"), max_length=8, choices=Selection.choices, default=Selection.BEST
    )
    max_final = models.PositiveIntegerField(_("final entries a team may mark"), default=2)
    freeze_at = models.DateTimeField(
        _("board freezes at"),
        null=True,
        blank=True,
        help_text=_("After this, others' scores stop updating; each team still sees its own."),
    )
    private_revealed_at = models.DateTimeField(
        _("private board revealed at"), null=True, blank=True
    )
    public_board = models.BooleanField(
        _("public board visible to anyone"), default=True, help_text=_("Even without signing in.")
    )

    @property
    def metric_label(self) -> str:
        return str(METRIC_LABELS.get(self.metric, self.metric))

    #: Raised in every transaction that changes what a board shows; rendered boards are cached
    #: under it, so a page never recomputes a board.
    board_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "title"]
        constraints = [
            models.UniqueConstraint(fields=["event", "slug"], name="one_challenge_slug_per_event")
        ]
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")

    def __str__(self) -> str:
        return self.title


class RescoreBatch(models.Model):
    """An organizer's request to score entries again; progress is counted from its entries."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="rescores")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]


class Entry(models.Model):
    """One file handed in by a team (or a solo participant, `team` empty). Bytes never change."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Scoring")
        SCORED = "scored", _("Scored")
        REJECTED = "rejected", _("Rejected")
        ERROR = "error", _("Platform error")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="entries")
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contest_entries",
    )
    #: "t<team id>", "u<user id>" (solo) or "b<entry id>" (a baseline): whose board row it feeds.
    competitor = models.CharField(max_length=24)
    is_baseline = models.BooleanField(default=False)
    label = models.CharField(_("label"), max_length=120, blank=True)
    file = models.BinaryField(_("file"))
    filename = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(_("handed in at"))
    #: When it last entered the queue (hand-in or rescore): the queue's order within a lane.
    queued_at = models.DateTimeField(null=True, blank=True)
    #: The event day (event time zone) whose quota it took; empty when it took none.
    quota_day = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scored_version = models.PositiveIntegerField(null=True, blank=True)
    public_score = models.FloatField(_("public score"), null=True, blank=True)
    private_score = models.FloatField(_("private score"), null=True, blank=True)
    #: Scored and not flagged: the entry may stand on a board. Kept while a rescore is queued.
    ranked = models.BooleanField(default=False)
    flags = models.JSONField(default=list)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    result = models.JSONField(default=dict)
    is_final = models.BooleanField(_("marked final"), default=False)
    rescore_batch = models.ForeignKey(
        RescoreBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["challenge", "competitor", "-created_at"]),
            models.Index(fields=["status", "queued_at"]),
        ]
        verbose_name = _("entry")
        verbose_name_plural = _("entries")

    def __str__(self) -> str:
        return f"#{self.pk} {self.competitor} {self.challenge.slug}"


class QuotaUsage(models.Model):
    """Entries a competitor has used on a challenge: one row per event day and one for the total
    (`day` empty). Taken and given back by conditional UPDATEs, so racing hand-ins cannot pass
    the limit."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    competitor = models.CharField(max_length=24)
    day = models.DateField(null=True, blank=True)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "competitor", "day"], name="one_quota_row_per_day"
            ),
            models.UniqueConstraint(
                fields=["challenge", "competitor"],
                condition=models.Q(day__isnull=True),
                name="one_total_quota_row",
            ),
        ]


class QueueLane(models.Model):
    """When the scoring queue last served an event ("e<id>") or a competitor on a challenge
    ("c<challenge id>:<competitor>"): the worker serves the least recently served first."""

    key = models.CharField(max_length=64, unique=True)
    last_served_at = models.DateTimeField()


class BoardRow(models.Model):
    """One competitor's standing on one board of one challenge, written when a score lands.

    `score`/`entry` are live. `shown_score`/`shown_entry` are what others see: they follow the
    live ones until the challenge's freeze time and then stop, so a team still sees its own."""

    class Board(models.TextChoices):
        PUBLIC = "public", _("Public")
        PRIVATE = "private", _("Private")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="board_rows")
    board = models.CharField(max_length=8, choices=Board.choices)
    competitor = models.CharField(max_length=24)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    is_baseline = models.BooleanField(default=False)
    name = models.CharField(max_length=200)
    score = models.FloatField(null=True, blank=True)
    entry = models.ForeignKey(Entry, on_delete=models.SET_NULL, null=True, related_name="+")
    entry_count = models.PositiveIntegerField(default=0)
    last_entry_at = models.DateTimeField(null=True, blank=True)
    shown_score = models.FloatField(null=True, blank=True)
    shown_entry = models.ForeignKey(
        Entry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shown_entry_count = models.PositiveIntegerField(default=0)
    #: The score's tie-break: the earlier entry (hand-in time) ranks first.
    scored_entry_at = models.DateTimeField(null=True, blank=True)
    shown_entry_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "board", "competitor"], name="one_board_row_per_competitor"
            )
        ]
        indexes = [models.Index(fields=["challenge", "board", "shown_score"])]

    def __str__(self) -> str:
        return f"{self.challenge.slug}/{self.board}: {self.name} {self.score}"
