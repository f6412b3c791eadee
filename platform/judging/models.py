"""The event's rubric, judges' assignments and conflicts, and their scores."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Event
from projects.models import Project
from teams.models import Team


class Criterion(models.Model):
    """One line of the event's rubric: a weight and written guidance for judges."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(_("criterion"), max_length=120)
    guidance = models.TextField(_("guidance for judges"), blank=True)
    weight = models.FloatField(_("weight"), default=1.0, validators=[MinValueValidator(0.01)])
    max_points = models.PositiveIntegerField(_("highest score"), default=10)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gt=0), name="criterion_weight_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_points__gt=0), name="criterion_max_positive"
            ),
        ]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self) -> str:
        return self.name


class JudgeConflict(models.Model):
    """A conflict a judge (or an organizer for them) declared with one team."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judge", "team"], name="one_conflict_per_judge_team")
        ]


class JudgeAssignment(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judge_assignments")
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judge_assignments"
    )
    comment = models.TextField(_("comment"), blank=True)
    completed_at = models.DateTimeField(_("scored at"), null=True, blank=True)

    class Meta:
        ordering = ["project_id", "judge_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "judge"], name="one_assignment_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.judge} → {self.project}"


class Score(models.Model):
    assignment = models.ForeignKey(JudgeAssignment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    points = models.PositiveIntegerField(_("points"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "criterion"], name="one_score_per_line")
        ]
