"""Submitting a project version: checked, size-limited, kept forever."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from events.models import Track
from events.selectors import phase_end
from projects.models import Project, ProjectVersion
from teams.models import Team

SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
ALLOWED_SUFFIXES = (".ipynb", ".zip", ".pdf", ".py", ".md", ".txt", ".tar.gz")


class ProjectError(ValueError):
    pass


def max_upload_bytes() -> int:
    return getattr(settings, "KC_PROJECT_FILE_LIMIT", 10 * 1024 * 1024)


@dataclass
class ProjectDraft:
    title: str
    description: str
    repository_url: str = ""
    video_url: str = ""
    track_id: int | None = None
    file_name: str = ""
    file_bytes: bytes = b""


def submissions_close_at(team: Team):
    """Editable until the final-submission phase ends (the event's end when it has none)."""
    return phase_end(team.event, "submission") or team.event.ends_at


def safe_file_name(name: str) -> str:
    name = SAFE_NAME.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")
    return name[:200] or "upload"


def submit_version(team: Team, user, draft: ProjectDraft, *, now=None) -> ProjectVersion:
    now = now or timezone.now()
    if now >= submissions_close_at(team):
        raise ProjectError(_("Submissions are closed."))
    if not draft.title.strip() or not draft.description.strip():
        raise ProjectError(_("A project needs a title and a description."))
    track = None
    if draft.track_id:
        track = Track.objects.filter(pk=draft.track_id, event=team.event).first()
        if track is None:
            raise ProjectError(_("That track is not part of this event."))
    file_name = ""
    if draft.file_name:
        file_name = safe_file_name(draft.file_name)
        if not file_name.lower().endswith(ALLOWED_SUFFIXES):
            raise ProjectError(_("Upload a notebook, zip, PDF, Python, Markdown or text file."))
        if len(draft.file_bytes) > max_upload_bytes():
            raise ProjectError(
                _("The file is larger than %(mb)s MB.") % {"mb": max_upload_bytes() // 2**20}
            )
    project, _created = Project.objects.get_or_create(team=team, defaults={"event": team.event})
    previous = project.versions.first()
    if not file_name and previous is not None:
        # A new version without a new file keeps the last one, so fixing a typo loses nothing.
        file_name, data = previous.file_name, bytes(previous.file_bytes)
    else:
        data = draft.file_bytes if file_name else b""
    for _attempt in range(3):
        number = (project.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                return ProjectVersion.objects.create(
                    project=project,
                    number=number,
                    title=draft.title.strip(),
                    description=draft.description.strip(),
                    repository_url=draft.repository_url.strip(),
                    video_url=draft.video_url.strip(),
                    track=track,
                    file_name=file_name,
                    file_bytes=data,
                    file_size=len(data),
                    file_sha256=hashlib.sha256(data).hexdigest() if data else "",
                    submitted_by=user,
                )
        except IntegrityError:
            continue  # two members saved at once: take the next number
    raise ProjectError(_("Please try again."))
