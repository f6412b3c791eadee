"""Keep the ledger true to the hub: meter running servers, adopt strangers, close what stopped,
and stop servers that are over budget, idle past their profile's limit, or too old."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from compute import ledger, selectors, services
from compute.backends import get_backend
from compute.hub import HubError, HubUnavailable
from compute.models import GpuProfile, HubSession

log = logging.getLogger(__name__)


@dataclass
class Report:
    hub_reachable: bool = True
    adopted: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)
    metered: int = 0


def _warning_notebook(budget) -> dict:
    text = _(
        "# Your GPU-hour budget is nearly used up\n\n"
        "You have used %(used).2f of %(granted).2f GPU-hours. Your session will be stopped when "
        "the budget runs out: save your work and submit soon."
    ) % {"used": budget.used, "granted": budget.granted}
    return {"type": "file", "format": "text", "content": text}


def reconcile(now: datetime | None = None) -> Report:
    now = now or timezone.now()
    report = Report()
    backend = get_backend()
    if not backend.configured():
        return report
    try:
        running = backend.running()
    except HubUnavailable:
        report.hub_reachable = False  # never close rows on a hub we cannot see
        return report

    rows = HubSession.objects.filter(status__in=HubSession.ACTIVE).select_related("profile")
    site_rows = {s.hub_username: s for s in rows if s.is_live}
    # Stops asked for whose background job did not finish (the web process went, the hub was
    # down): stop again, and close once the hub no longer has the server.
    for row in rows:
        if row.status != HubSession.Status.STOPPING or row.hub_username in site_rows:
            continue
        if row.hub_username not in running:
            ledger.close(row, row.stop_reason or "gone")
            report.closed.append(row.hub_username)
        elif running[row.hub_username].pending != "stop":
            try:
                backend.stop(row.hub_username)
            except HubError as exc:
                log.warning("could not stop %s again: %s", row.hub_username, exc)
    stopping = {r.hub_username for r in rows if r.status == HubSession.Status.STOPPING}

    # Servers the site did not start (or started before losing track of them): adopt them.
    for name, state in running.items():
        row = site_rows.get(name)
        if (
            row is not None
            and row.hub_started
            and state.started
            and row.hub_started != state.started
        ):
            ledger.close(row, "restarted", ledger.hub_time(state.started) or now)  # a new life
            row = None
        if row is None:
            if name in stopping:
                continue  # the old server, on its way out
            user = User.objects.filter(username__iexact=name).first()
            if user is None:
                continue
            profile = GpuProfile.objects.filter(slug=state.profile).first()
            site_rows[name] = ledger.adopt(user, name, profile, state)
            report.adopted.append(name)
        elif row.status == HubSession.Status.STARTING:
            services.refresh(row)

    # Stops the site never saw: culled, crashed, or lost in a hub restart.
    for name, row in site_rows.items():
        if name in running:
            continue
        if row.status == HubSession.Status.STARTING:
            # A launch job may still be waiting to ask the hub: only a stale row is failed here.
            services.refresh(row, gone_after=2 * settings.KC_SPAWN_TIMEOUT_S)
            continue
        ledger.close(row, "gone", now)
        report.closed.append(name)

    # Meter and enforce limits on what runs.
    for name, state in running.items():
        row = site_rows.get(name)
        if row is None or row.status != HubSession.Status.RUNNING:
            continue
        report.metered += 1
        ledger.meter(row, now)
        reason = _limit_reason(row, state, now)
        if reason:
            try:
                services.stop(row, reason)
                report.stopped[name] = reason
            except services.SessionError as exc:
                log.warning("could not stop %s (%s): %s", name, reason, exc)
            continue
        if _should_warn(row, now):
            try:
                backend.write_file(
                    name,
                    "BUDGET-WARNING.md",
                    _warning_notebook(selectors.budget_for_session(row, now)),
                )
            except HubError as exc:
                log.warning("could not warn %s: %s", name, exc)
            ledger.mark_warned(row, now)
            report.warned.append(name)
    return report


def _limit_reason(row: HubSession, state, now: datetime) -> str:
    budget = selectors.budget_for_session(row, now)  # a team's session stops at the team's limit
    if row.cost_weight > 0 and budget.left <= 0:
        return "over-budget"
    profile = row.profile
    if profile is None:
        return ""
    if row.started_at and (now - row.started_at) > timedelta(seconds=profile.max_age_s):
        return "max-age"
    last = ledger.hub_time(state.last_activity)
    if last and (now - last) > timedelta(seconds=profile.idle_timeout_s):
        return "idle"
    return ""


def _should_warn(row: HubSession, now: datetime) -> bool:
    if row.warned_at is not None or row.cost_weight <= 0:
        return False
    budget = selectors.budget_for_session(row, now)
    return budget.granted > 0 and budget.fraction_used >= settings.KC_BUDGET_WARN_FRACTION
