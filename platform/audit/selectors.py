"""Reading the audit log: the staff page and its CSV export share one filter."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry


def _day(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        return None


def filtered_entries(params) -> QuerySet[AuditEntry]:
    """Entries matching the page's filters: action, who (name), object text, from/to day."""
    entries = AuditEntry.objects.all()
    if action := params.get("action", "").strip():
        entries = entries.filter(action=action)
    if who := params.get("who", "").strip():
        entries = entries.filter(actor_label__icontains=who)
    if about := params.get("about", "").strip():
        entries = entries.filter(Q(target_label__icontains=about) | Q(target_id=about))
    zone = timezone.get_current_timezone()
    if since := _day(params.get("since", "")):
        entries = entries.filter(at__gte=datetime.datetime.combine(since, datetime.time(), zone))
    if until := _day(params.get("until", "")):
        after = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), zone)
        entries = entries.filter(at__lt=after)
    return entries


def entries_about(user) -> QuerySet[AuditEntry]:
    """What the log holds about a person: changes they made or that concern them."""
    return AuditEntry.objects.filter(
        Q(actor=user) | Q(subject=user) | Q(target_type="accounts.user", target_id=str(user.pk))
    )
