"""Session and usage rules (registered with accounts.permissions from ComputeConfig.ready)."""

from __future__ import annotations

from accounts.permissions import rule
from learning.permissions import teaches


@rule("session.launch")
def _session_launch(user, _obj) -> bool:
    return True  # which profile, and whether there is budget, is checked by compute.services


@rule("session.control")
def _session_control(user, session) -> bool:
    """Follow, stop or open one GPU session: its owner."""
    return session.user_id == user.pk


@rule("usage.cohort")
def _usage_cohort(user, cohort) -> bool:
    return teaches(user, cohort)
