"""The one place that answers "may this user do this to this object?": a registry of rules.

Every view asks `require(user, action, obj)`; templates ask `can`. This module knows no app above
it: each app owns its rules in its own `permissions.py`, decorated with `@rule("app.action")`,
and imports that module from its `AppConfig.ready()` so the rules are registered before the first
request (see docs/architecture.md, "Permissions"). Staff may do everything; anonymous and inactive
users nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied

_RULES: dict[str, Callable] = {}


def rule(action: str):
    """Register `func(user, obj) -> bool` as the rule of `action`; one rule per action."""

    def register(func: Callable) -> Callable:
        owner = _RULES.get(action)
        if owner is not None and owner.__module__ != func.__module__:
            raise ValueError(f"{action!r} is already registered by {owner.__module__}")
        _RULES[action] = func
        return func

    return register


def actions() -> list[str]:
    return sorted(_RULES)


def can(user, action: str, obj=None) -> bool:
    if action not in _RULES:
        raise KeyError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    return bool(_RULES[action](user, obj))


def require(user, action: str, obj=None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(action)


@rule("site.admin")
def _site_admin(user, _obj) -> bool:
    return False  # staff only, answered in `can`
