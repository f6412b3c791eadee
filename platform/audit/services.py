"""Writing the audit log. One call from every write path that changes grades, roles or budgets."""

from __future__ import annotations

import contextvars
import datetime
import decimal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from audit.models import AuditEntry

SYSTEM = "system"

# The signed-in person behind the current request (set by audit.middleware), for changes recorded
# deep inside services or by model watchers that are not handed an actor.
_current_actor: contextvars.ContextVar = contextvars.ContextVar("kc_audit_actor", default=None)


@contextmanager
def acting_as(user) -> Iterator[None]:
    """Attribute changes made inside the block to `user` (or a callable giving it)."""
    token = _current_actor.set(user)
    try:
        yield
    finally:
        _current_actor.reset(token)


def current_actor():
    value = _current_actor.get()
    return value() if callable(value) else value  # the middleware defers request.user


def _plain(value):
    """A JSON-safe copy: dates as ISO text, decimals and UUIDs as text, models as their pk."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _actor_label(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return SYSTEM
    return actor.get_username()


def record(actor, action: str, target=None, before=None, after=None, *, subject=None) -> AuditEntry:
    """Record that `actor` did `action` to `target`, with the values before and after.

    actor: the user who decided (None: the request's user if any, else "system").
    action: a dotted code such as "grading.override" (name it in audit.actions).
    target: the model instance changed (or None); its type, id and str() are kept.
    before/after: dicts of the fields that matter (None for a creation or a deletion).
    subject: the person the change is about, when that is not the actor.
    """
    if actor is None:
        actor = current_actor()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    entry = AuditEntry(
        actor=actor,
        actor_label=_actor_label(actor),
        action=action,
        subject=subject,
        before=_plain(before),
        after=_plain(after),
    )
    if target is not None:
        entry.target_type = target._meta.label_lower
        entry.target_id = str(target.pk)
        entry.target_label = str(target)[:255]
    entry.save()
    return entry


def snapshot(instance, fields: list[str]) -> dict:
    """The named fields of a model instance (foreign keys by id), for before/after."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        values[name] = getattr(instance, field.attname)
    return _plain(values)
