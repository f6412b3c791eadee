"""Everything the site holds about one person, as one zip archive (the right of access).

Found generically, so that apps added later are included without changes here: every row of
every model that points at the user, and, for rows the user *owns* (their foreign key to the user
cascades), the rows that cascade from those (a submission's grade, the grade's cell scores, a
judge's scores). Stored bytes (notebooks, project files) become files in the archive; secrets
(password hashes, tokens) are withheld. Teams the user belongs to bring their project versions.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

WITHHELD = "(withheld)"
# Field names whose values are secrets of the site, not information about the person.
SECRET_FIELDS = {"password", "token", "token_checksum", "client_secret", "code", "jti", "secret"}
# Models that are the log of the site, exported through audit.selectors, or bookkeeping.
SKIPPED_MODELS = {"audit.auditentry", "admin.logentry"}
MAX_DEPTH = 3


def _user_fks(model) -> list[models.ForeignKey]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.ForeignKey) and f.related_model is user_model and f.concrete
    ]


def _cascading_children(model) -> list[models.ForeignKey]:
    """Foreign keys of other models that point at `model` and cascade from it."""
    return [
        rel.field
        for rel in model._meta.related_objects
        if rel.one_to_many or rel.one_to_one
        if getattr(rel, "on_delete", None) is models.CASCADE and rel.field.concrete
    ]


class _Collector:
    def __init__(self):
        self.rows: dict[str, dict[str, models.Model]] = {}

    def add(self, instance: models.Model) -> bool:
        bucket = self.rows.setdefault(instance._meta.label_lower, {})
        key = str(instance.pk)
        if key in bucket:
            return False
        bucket[key] = instance
        return True

    def add_owned(self, instances: Iterable[models.Model], depth: int = 0) -> None:
        for instance in instances:
            if not self.add(instance) or depth >= MAX_DEPTH:
                continue
            for fk in _cascading_children(type(instance)):
                self.add_owned(fk.model._base_manager.filter(**{fk.name: instance}), depth + 1)


def collect(user) -> dict[str, dict[str, models.Model]]:
    collector = _Collector()
    collector.add(user)
    for model in apps.get_models():
        if model._meta.label_lower in SKIPPED_MODELS:
            continue
        for fk in _user_fks(model):
            rows = model._base_manager.filter(**{fk.name: user})
            if fk.remote_field.on_delete is models.CASCADE:
                collector.add_owned(rows)
            else:  # rows that only mention the user (e.g. granted_by): the row, not its children
                for row in rows:
                    collector.add(row)
    _add_teams(collector, user)
    return collector.rows


def _add_teams(collector: _Collector, user) -> None:
    """A team member's team, its project and project versions: work they share in."""
    if not apps.is_installed("teams"):
        return
    from teams.models import TeamMembership

    for membership in TeamMembership.objects.filter(user=user).select_related("team"):
        collector.add(membership.team)
        project = (
            getattr(membership.team, "project", None) if apps.is_installed("projects") else None
        )
        if project is not None:
            collector.add(project)
            for version in project.versions.all():
                collector.add(version)


def _file_name(instance: models.Model, field: models.Field) -> str:
    label = instance._meta.label_lower.replace(".", "-")
    suggested = getattr(instance, "filename", "") or ""
    if instance._meta.label_lower == "grading.submission":
        suggested = f"{instance.assignment.slug}.ipynb"
    suffix = suggested.rsplit("/", 1)[-1] or f"{field.name}.bin"
    return f"files/{label}/{instance.pk}-{suffix}"


def _row(instance: models.Model, files: dict[str, bytes]) -> dict:
    fields = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(instance, field.attname)
        if field.name in SECRET_FIELDS:
            value = WITHHELD if value else value
        elif isinstance(field, models.BinaryField):
            data = bytes(value or b"")
            if data:
                name = _file_name(instance, field)
                files[name] = data
                value = name
            else:
                value = ""
        fields[field.name] = value
    try:
        label = str(instance)
    except Exception:  # a __str__ that follows a missing relation
        label = f"{instance._meta.label} #{instance.pk}"
    return {"id": instance.pk, "label": label, "fields": fields}


README = """KernelCamp: everything held about {username}, exported {when}.

data.json      every record that names you, by kind (app.model), each with its fields
files/         the bytes stored with those records: your submitted notebooks
               (files/grading-submission/<id>-<assignment>.ipynb) and your team's project files
audit.json     the audit log's entries about you or made by you
Password hashes and access tokens are withheld ({withheld}).
"""


def build_archive(user) -> bytes:
    """The zip archive of everything held about `user`."""
    from audit.selectors import entries_about

    files: dict[str, bytes] = {}
    data = {
        label: [_row(instance, files) for instance in rows.values()]
        for label, rows in sorted(collect(user).items())
    }
    audit_rows = [
        {
            "at": entry.at,
            "who": entry.actor_label,
            "action": entry.action,
            "object": entry.target_label,
            "before": entry.before,
            "after": entry.after,
        }
        for entry in entries_about(user)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            README.format(
                username=user.get_username(), when=timezone.now().isoformat(), withheld=WITHHELD
            ),
        )
        archive.writestr(
            "data.json", json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)
        )
        archive.writestr(
            "audit.json",
            json.dumps(audit_rows, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
        )
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()
