"""A team's project: every submitted version is kept, the latest is what judges see."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.models import Event, Track
from teams.models import Team


class Project(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="projects")
    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="project")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        latest = self.versions.first()
        return latest.title if latest else str(self.team)


class ProjectVersion(models.Model):
    """Immutable once written. The file is kept as bytes in the database, served only as a
    download (never executed, never rendered)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    repository_url = models.URLField(_("repository link"), blank=True)
    video_url = models.URLField(_("video link"), blank=True)
    track = models.ForeignKey(Track, on_delete=models.SET_NULL, null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_bytes = models.BinaryField(default=b"", editable=False)
    file_size = models.PositiveIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="one_version_number")
        ]
        verbose_name = _("project version")
        verbose_name_plural = _("project versions")

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"
