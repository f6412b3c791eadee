"""Pages: launch a session (spawn progress streamed), stop it, submit from it, usage reports.

No page waits on the hub to start or stop anything (compute.runner does that in the background),
and no page that shows sessions writes to the database: they read what compute.ledger wrote.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require
from compute import ledger, plots, runner, selectors, services
from compute.backends import get_backend
from compute.figures import gpu_time
from compute.hub import HubError
from compute.models import HubSession
from learning.models import Cohort


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    active = selectors.live_session(request.user)
    budget = selectors.budget_for(request.user)
    team_budgets = [
        (team, selectors.team_budget(team)) for team in selectors.budget_teams(request.user)
    ]
    context = {
        "profiles": selectors.usable_profiles(request.user),
        "budget": budget,
        "team_budgets": team_budgets,
        # A member with no hours of their own launches on their team's budget unless they choose.
        "default_team": team_budgets[0][0].pk if team_budgets and budget.granted <= 0 else None,
        "active": active,
        "stopping": selectors.stopping_session(request.user),
        "open_url": get_backend().open_url(active.hub_username) if active else "",
        "history": selectors.usage_rows(list(selectors.session_history(request.user, 10))),
    }
    return render(request, "compute/sessions.html", context)


@login_required
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    charge_to = request.POST.get("charge_to", "")
    team_id = int(charge_to) if charge_to.isdigit() else None
    try:
        services.request_launch(request.user, request.POST.get("profile", ""), team_id)
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions")


def _own_session(request: HttpRequest, pk: int) -> HubSession:
    session = get_object_or_404(HubSession.objects.select_related("profile", "user"), pk=pk)
    require(request.user, "session.control", session)
    return session


@login_required
def session_status(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    open_url = get_backend().open_url(session.hub_username) if session.is_live else ""
    return render(request, "compute/_status.html", {"session": session, "open_url": open_url})


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


# Each open event stream holds a web thread for a spawn's length: at most KC_EVENT_STREAMS per
# process, so that the hub's calls to the site (OAuth, userinfo) and every short request always
# find a free thread (deploy/gunicorn.conf.py gives each worker more threads than that).
_streams: threading.BoundedSemaphore | None = None
#: How often a stream reads its row, and asks the hub for a spawn it has not taken yet, when no
#: job of its own process brought news (runner.session_news).
ROW_POLL_S = 0.25
PROGRESS_RETRY_S = 2.0
_streams_lock = threading.Lock()


def _stream_slots() -> threading.BoundedSemaphore:
    global _streams
    with _streams_lock:
        if _streams is None:
            _streams = threading.BoundedSemaphore(settings.KC_EVENT_STREAMS)
        return _streams


def _relay_spawn(session: HubSession) -> Iterator[str]:
    """The hub's spawn progress as server-sent events, then `done` once the ledger row (written
    by the launch job) is no longer starting. Reads only."""
    # Past the spawn limit the page reloads and, if still starting, opens a new stream.
    deadline = time.monotonic() + settings.KC_SPAWN_TIMEOUT_S
    relayed = news = False
    next_ask = 0.0
    while time.monotonic() < deadline:
        seen = runner.session_news.mark()  # before reading the row: no news goes unseen
        session.refresh_from_db()
        if session.status != HubSession.Status.STARTING:
            break
        if not relayed and (news or time.monotonic() >= next_ask):
            try:
                for event in get_backend().progress(session.hub_username):
                    relayed = True
                    data = {
                        "progress": event.get("progress", 0),
                        "message": event.get("message", ""),
                    }
                    yield _sse("progress", data)
                    if event.get("ready") or event.get("failed"):
                        break
            except HubError:
                pass  # not taken by the hub yet (its spawn queue is full): ask again later
            if relayed:
                continue  # the spawn ended: read the row again at once
            # A queued launch is not asked about every poll: that load would slow the hub.
            next_ask = time.monotonic() + PROGRESS_RETRY_S
        # This process's launch job rings as the hub takes the spawn and as it writes the
        # outcome; another process's is seen at the next look (the wait's bound).
        news = runner.session_news.wait(seen, ROW_POLL_S)
    payload = {"status": session.status, "message": session.get_status_display()}
    if session.status == HubSession.Status.RUNNING:
        payload["url"] = get_backend().open_url(session.hub_username)
        payload["delivered"] = session.delivered
    elif session.message:
        payload["message"] = session.message
    yield _sse("done", payload)


@login_required
def session_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Spawn progress, relayed as server-sent events, then the outcome (`done`). When this process
    already relays its share of streams, it answers `busy`: the page then polls instead."""
    session = _own_session(request, pk)
    slots = _stream_slots()

    def stream() -> Iterator[str]:
        if not slots.acquire(blocking=False):
            yield _sse("busy", {"retry_ms": 2000})
            return
        try:
            yield from _relay_spawn(session)
        finally:
            slots.release()

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_POST
def session_stop(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    if not session.is_live:
        messages.info(request, _("This session has already ended."))
        return redirect("sessions")
    try:
        services.request_stop(session)
        messages.success(request, _("Your session is stopping."))
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions")


@login_required
@require_POST
def submit_from_session(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    from accounts.ratelimit import submission_refusal
    from grading.services import SubmissionError

    cohort = get_object_or_404(Cohort, pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "submission.create", (cohort, assignment))
    if refusal := submission_refusal(request.user, cohort, slug):  # per student, per minute
        messages.error(request, refusal)
        return redirect("assignment-detail", pk=pk, slug=slug)
    try:
        submission = services.submit_from_session(request.user, cohort, slug)
    except (services.SessionError, SubmissionError) as exc:
        messages.error(request, str(exc))
        return redirect("assignment-detail", pk=pk, slug=slug)
    return redirect("submission-detail", pk=submission.pk)


def _daily(rows, now) -> list:
    out = []
    for s in rows:
        if s.started_at is None:
            continue
        day = timezone.localdate(s.started_at)
        out.append((day, s.profile.slug if s.profile else "?", ledger.live_charge(s, now) / 3600))
    return out


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    rows = list(selectors.session_history(request.user))
    now = timezone.now()
    return render(
        request,
        "compute/usage.html",
        {
            "budget": selectors.budget_for(request.user, now),
            "rows": selectors.usage_rows(rows, now),
            "plot": plots.usage_svg(_daily(rows, now), _("Your GPU-hours per day"), "GPU-h"),
        },
    )


def _csv_response(filename: str, header: list[str], lines: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(lines)
    return response


@login_required
def usage_csv(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    rows = selectors.usage_rows(list(selectors.session_history(request.user)), timezone.now())
    lines = [
        [
            r.session.profile.slug if r.session.profile else "",
            r.session.started_at.isoformat() if r.session.started_at else "",
            r.session.stopped_at.isoformat() if r.session.stopped_at else "",
            r.session.status,
            gpu_time(r.runtime_seconds),
            f"{r.runtime_seconds:.0f}",
            gpu_time(r.charged_seconds),
            f"{r.charged_seconds:.1f}",
        ]
        for r in rows
    ]
    header = ["profile", "started", "stopped", "status", "duration", "duration_seconds"]
    header += ["gpu_time", "gpu_seconds"]
    return _csv_response("gpu-usage.csv", header, lines)


def _cohort_rows(request: HttpRequest, pk: int):
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    require(request.user, "usage.cohort", cohort)
    student_ids = cohort.enrolments.values_list("user_id", flat=True)
    rows = list(  # sessions charged to a hackathon team are the event's, not the cohort's
        HubSession.objects.filter(user_id__in=student_ids, event__isnull=True).select_related(
            "profile", "user"
        )
    )
    return cohort, rows


@login_required
def cohort_usage(request: HttpRequest, pk: int) -> HttpResponse:
    cohort, rows = _cohort_rows(request, pk)
    now = timezone.now()
    per_user = selectors.charge_per_user(rows, now)
    return render(
        request,
        "compute/cohort_usage.html",
        {
            "cohort": cohort,
            "per_user": sorted(per_user.items()),
            "total": sum(per_user.values()),
            "plot": plots.usage_svg(_daily(rows, now), _("Cohort GPU-hours per day"), "GPU-h"),
        },
    )


@login_required
def cohort_usage_csv(request: HttpRequest, pk: int) -> HttpResponse:
    cohort, rows = _cohort_rows(request, pk)
    per_user = selectors.charge_per_user(rows, timezone.now())
    lines = [[name, gpu_time(s), f"{s:.1f}"] for name, s in sorted(per_user.items())]
    return _csv_response(
        f"gpu-usage-cohort-{cohort.pk}.csv", ["student", "gpu_time", "gpu_seconds"], lines
    )
