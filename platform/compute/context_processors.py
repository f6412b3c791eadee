"""The budget warning on every page while the user's running server is about to be stopped."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest

from compute import selectors
from compute.models import HubSession


def budget_warning(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    warned_id = _warned_session_id(user.pk)
    if warned_id is None:
        return {}
    warned = HubSession.objects.filter(pk=warned_id).first()
    return {"budget_warning": {"budget": selectors.budget_for_session(warned)}} if warned else {}


_WARNED_SQL: str | None = None


def _warned_session_id(user_id: int) -> int | None:
    """The user's newest active, warned session, if any: asked on every signed-in page and
    nearly always none, so written as SQL (the ORM spent more CPU building this query than the
    database spent answering it; bench/leaderboard)."""
    global _WARNED_SQL
    if _WARNED_SQL is None:
        table = connection.ops.quote_name(HubSession._meta.db_table)
        marks = ", ".join(["%s"] * len(HubSession.ACTIVE))
        _WARNED_SQL = (
            f"SELECT id FROM {table} WHERE user_id = %s AND warned_at IS NOT NULL"
            f" AND status IN ({marks}) ORDER BY requested_at DESC, id DESC LIMIT 1"
        )
    with connection.cursor() as cursor:
        cursor.execute(_WARNED_SQL, [user_id, *[str(s) for s in HubSession.ACTIVE]])
        row = cursor.fetchone()
    return row[0] if row else None
