"""Model watchers: changes to roles, budgets and late policies are recorded however they are made
(a teaching page, the admin, a management command), with the request's user as the actor.

Grades, regrades, releases, extensions and judges' scores are recorded by their services with an
explicit `audit.record(...)`, because there the service knows who decided and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from audit.services import record


@dataclass(frozen=True)
class Watch:
    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]  # the fields whose change is recorded
    action: str
    subject: str | None = None  # the attribute naming the person concerned, e.g. "user"
    record_creation: bool = True


WATCHED: list[Watch] = []


def watch(
    model: str,
    fields: tuple[str, ...],
    action: str,
    *,
    subject: str | None = None,
    record_creation: bool = True,
) -> None:
    """Record creations, changes of `fields` and deletions of `model` as `action`.

    Writes through QuerySet.update() or bulk_create() send no signals and are not seen: use
    audit.record in such write paths.
    """
    spec = Watch(model, fields, action, subject, record_creation)
    WATCHED.append(spec)
    model_class = apps.get_model(model)
    uid = f"audit-{model}-{action}"
    pre_save.connect(_remember(spec), sender=model_class, weak=False, dispatch_uid=uid + "-pre")
    post_save.connect(_saved(spec), sender=model_class, weak=False, dispatch_uid=uid + "-post")
    post_delete.connect(_deleted(spec), sender=model_class, weak=False, dispatch_uid=uid + "-del")


def _values(spec: Watch, instance) -> dict:
    return {name: getattr(instance, instance._meta.get_field(name).attname) for name in spec.fields}


def _subject(spec: Watch, instance):
    return getattr(instance, spec.subject, None) if spec.subject else None


def _remember(spec: Watch):
    def handler(sender, instance, raw=False, update_fields=None, **kwargs):
        instance._audit_before = None
        if raw or instance.pk is None:
            return
        if update_fields is not None and not set(update_fields) & set(spec.fields):
            return  # e.g. a sign-in writing last_login: nothing watched changes
        attnames = [instance._meta.get_field(f).attname for f in spec.fields]
        old = sender._base_manager.filter(pk=instance.pk).values(*attnames).first()
        if old is not None:
            instance._audit_before = dict(zip(spec.fields, (old[a] for a in attnames), strict=True))

    return handler


def _saved(spec: Watch):
    def handler(sender, instance, created, raw=False, update_fields=None, **kwargs):
        if raw:
            return  # loading a fixture or a backup is not a change anyone made
        before = getattr(instance, "_audit_before", None)
        after = _values(spec, instance)
        if created or before is None:
            if not created or not spec.record_creation:
                return
        elif before == after:
            return
        changed_before = None if before is None else {k: before[k] for k in after}
        record(None, spec.action, instance, changed_before, after, subject=_subject(spec, instance))

    return handler


def _deleted(spec: Watch):
    def handler(sender, instance, **kwargs):
        # No subject link: the row may be going away with its person (a cascade from the user),
        # and an entry pointing at a row deleted in the same transaction would break the delete.
        record(None, spec.action, instance, _values(spec, instance), None)

    return handler


def _watch_core_models() -> None:
    watch(
        "learning.Cohort",
        ("late_policy", "penalty_percent_per_day", "penalty_cap_percent", "grace_hours"),
        "learning.late_policy",
    )
    watch("learning.Enrolment", ("role",), "learning.role", subject="user")
    watch("learning.CourseStaff", ("role",), "learning.role", subject="user")
    watch("events.EventRole", ("role",), "events.role", subject="user")
    watch(
        "accounts.User",
        ("is_staff", "is_superuser", "is_active"),
        "accounts.site_role",
        subject=None,
        record_creation=False,
    )
    watch(
        "compute.Allocation",
        (
            "gpu_hours",
            "per_user_gpu_hours",
            "per_team_gpu_hours",
            "organization",
            "cohort",
            "event",
            "team",
            "user",
            "note",
        ),
        "compute.budget",
        subject="user",
    )


_watch_core_models()
