"""The audit log: `audit.record(actor, action, target, before, after)` from any write path.

Imported lazily so that `from audit import record` works before the app registry is ready.
"""

from __future__ import annotations


def record(actor, action: str, target=None, before=None, after=None, *, subject=None):
    """Record one change; see audit.services.record."""
    from audit.services import record as _record

    return _record(actor, action, target, before, after, subject=subject)
