"""Reads for projects."""

from __future__ import annotations

from projects.models import Project, ProjectVersion


def latest_version(project: Project | None) -> ProjectVersion | None:
    if project is None:
        return None
    return project.versions.select_related("track").first()


def project_of_team(team) -> Project | None:
    return Project.objects.filter(team=team).first()
