"""Audit rules, registered with accounts.permissions: staff only (can() lets staff through)."""

from __future__ import annotations

from accounts.permissions import rule


@rule("audit.view")
def _audit_view(user, _obj) -> bool:
    return False  # site staff only; can() answers True for them before asking rules
