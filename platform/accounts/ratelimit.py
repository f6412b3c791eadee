"""Sliding-window rate limits counted in the database (one row per attempt).

A per-process cache would let each gunicorn worker grant its own allowance; rows in the shared
database hold across workers and replicas. Under a limit, a key holds at most `limit` rows per
window, so the table stays small; rows older than a day are pruned now and then.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import RateLimitHit

PRUNE_AFTER = timedelta(days=1)


def retry_after(key: str, limit: int, window_s: float) -> int:
    """Seconds until `key` may try again: 0 while fewer than `limit` hits lie in the window."""
    if limit <= 0:
        return 0
    since = timezone.now() - timedelta(seconds=window_s)
    hits = list(
        RateLimitHit.objects.filter(key=key, at__gt=since)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(hits) < limit:
        return 0
    oldest_counted = hits[-1]
    wait = (oldest_counted - since).total_seconds()
    return max(1, math.ceil(wait))


def record(key: str) -> None:
    RateLimitHit.objects.create(key=key)
    if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
        RateLimitHit.objects.filter(at__lt=timezone.now() - PRUNE_AFTER).delete()


def clear(key: str) -> None:
    RateLimitHit.objects.filter(key=key).delete()


def take(key: str, limit: int, window_s: float) -> int:
    """Count one attempt if allowed (returns 0), else return the seconds to wait."""
    wait = retry_after(key, limit, window_s)
    if not wait:
        record(key)
    return wait


def wait_message(seconds: int) -> str:
    if seconds < 120:
        return _("Try again in %(n)d seconds.") % {"n": seconds}
    return _("Try again in %(n)d minutes.") % {"n": math.ceil(seconds / 60)}


def submission_refusal(user, cohort, assignment_slug: str) -> str | None:
    """Submissions per student per assignment per minute: None if allowed (and counted)."""
    key = f"submit:{user.pk}:{cohort.pk}:{assignment_slug}"
    wait = take(key, settings.KC_SUBMISSIONS_PER_MINUTE, 60)
    if not wait:
        return None
    limit = settings.KC_SUBMISSIONS_PER_MINUTE
    return ngettext(
        # Refused files count too: the limit is on hand-ins, so a loop of bad files cannot
        # keep a grader busy checking them.
        "You handed in a file for this assignment %(n)d time in the last minute (refused files "
        "count too), the most allowed. %(wait)s",
        "You handed in a file for this assignment %(n)d times in the last minute (refused files "
        "count too), the most allowed. %(wait)s",
        limit,
    ) % {"n": limit, "wait": wait_message(wait)}


def client_ip(request) -> str:
    header = settings.KC_CLIENT_IP_HEADER
    value = request.META.get(header, "") if header else ""
    # The trusted proxy appends the address it saw last; earlier entries are the client's word.
    return value.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "") or "unknown"
