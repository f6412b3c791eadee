"""Staff pages: read the audit log, filtered, and export the same selection as CSV."""

from __future__ import annotations

import csv
import datetime
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from audit.actions import action_label, known_actions
from audit.selectors import filtered_entries
from kernelcamp.spreadsheet import as_text

PAGE_SIZE = 100


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


@login_required
def audit_log(request):
    require(request.user, "audit.view")
    entries = filtered_entries(request.GET).select_related("subject")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page:
        entry.action_name = action_label(entry.action)
        entry.before_text = _json(entry.before)
        entry.after_text = _json(entry.after)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "page": page,
            "actions": known_actions(),
            "filters": request.GET,
            "query": query.urlencode(),
        },
    )


@login_required
def audit_csv(request):
    require(request.user, "audit.view")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="kernelcamp-audit-{stamp}.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read the Korean text as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            _("When (UTC)"),
            _("Who"),
            _("Action"),
            _("Action code"),
            _("Object type"),
            _("Object id"),
            _("Object"),
            _("About"),
            _("Before"),
            _("After"),
        ]
    )
    for entry in filtered_entries(request.GET).select_related("subject").iterator():
        writer.writerow(
            [
                entry.at.astimezone(datetime.UTC).isoformat(timespec="seconds"),
                as_text(entry.actor_label),
                action_label(entry.action),
                entry.action,
                entry.target_type,
                entry.target_id,
                as_text(entry.target_label),
                as_text(entry.subject.get_username()) if entry.subject else "",
                _json(entry.before),
                _json(entry.after),
            ]
        )
    return response
