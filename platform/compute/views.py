"""Pages: launch a session (spawn progress streamed), stop it, submit from it, usage reports."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require
from compute import plots, selectors, services
from compute.backends import get_backend
from compute.hub import HubError
from compute.models import HubSession
from learning.models import Cohort


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    active = selectors.active_session(request.user)
    if active is not None:
        active = services.refresh(active)
        if not active.is_active:
            active = None
    context = {
        "profiles": selectors.usable_profiles(request.user),
        "budget": selectors.budget_for(request.user),
        "active": active,
        "open_url": get_backend().open_url(active.hub_username) if active else "",
        "history": HubSession.objects.filter(user=request.user).select_related("profile")[:10],
    }
    return render(request, "compute/sessions.html", context)


@login_required
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    try:
        services.launch(request.user, request.POST.get("profile", ""))
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions")


def _own_session(request: HttpRequest, pk: int) -> HubSession:
    session = get_object_or_404(HubSession.objects.select_related("profile", "user"), pk=pk)
    require(request.user, "session.control", session)
    return session


@login_required
def session_status(request: HttpRequest, pk: int) -> HttpResponse:
    session = services.refresh(_own_session(request, pk))
    open_url = get_backend().open_url(session.hub_username) if session.is_active else ""
    return render(request, "compute/_status.html", {"session": session, "open_url": open_url})


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@login_required
def session_events(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The hub's spawn progress, relayed as server-sent events, then the link when ready."""
    session = _own_session(request, pk)

    def stream() -> Iterator[str]:
        if session.status == HubSession.Status.STARTING:
            try:
                for event in get_backend().progress(session.hub_username):
                    yield _sse(
                        "progress",
                        {
                            "progress": event.get("progress", 0),
                            "message": event.get("message", ""),
                        },
                    )
                    if event.get("ready") or event.get("failed"):
                        break
            except HubError as exc:
                yield _sse("progress", {"progress": 0, "message": str(exc)})
        final = services.refresh(session)
        if final.status == HubSession.Status.STARTING:
            services.wait_until_ready(final, timeout=5)
        payload = {"status": final.status, "message": final.get_status_display()}
        if final.status == HubSession.Status.RUNNING:
            payload["url"] = get_backend().open_url(final.hub_username)
            payload["delivered"] = final.delivered
        elif final.message:
            payload["message"] = final.message
        yield _sse("done", payload)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_POST
def session_stop(request: HttpRequest, pk: int) -> HttpResponse:
    session = _own_session(request, pk)
    if not session.is_active:
        messages.info(request, _("This session has already ended."))
        return redirect("sessions")
    try:
        services.stop(session)
        messages.success(request, _("Your session was stopped."))
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions")


@login_required
@require_POST
def submit_from_session(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    from grading.services import SubmissionError

    cohort = get_object_or_404(Cohort, pk=pk)
    assignment = get_object_or_404(cohort.version.assignments, slug=slug)
    require(request.user, "submission.create", (cohort, assignment))
    try:
        submission = services.submit_from_session(request.user, cohort, slug)
    except (services.SessionError, SubmissionError) as exc:
        messages.error(request, str(exc))
        return redirect("assignment-detail", pk=pk, slug=slug)
    return redirect("submission-detail", pk=submission.pk)


def _daily(rows) -> list:
    now = timezone.now()
    out = []
    for s in rows:
        if s.started_at is None:
            continue
        day = timezone.localdate(s.started_at)
        out.append(
            (day, s.profile.slug if s.profile else "?", selectors.live_charge(s, now) / 3600)
        )
    return out


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    require(request.user, "session.launch")
    rows = list(HubSession.objects.filter(user=request.user).select_related("profile"))
    return render(
        request,
        "compute/usage.html",
        {
            "budget": selectors.budget_for(request.user),
            "rows": rows,
            "plot": plots.usage_svg(_daily(rows), _("Your GPU-hours per day"), "GPU-h"),
        },
    )


@login_required
def cohort_usage(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("course"), pk=pk)
    require(request.user, "usage.cohort", cohort)
    student_ids = cohort.enrolments.values_list("user_id", flat=True)
    rows = list(
        HubSession.objects.filter(user_id__in=student_ids).select_related("profile", "user")
    )
    now = timezone.now()
    per_user: dict[str, float] = {}
    for s in rows:
        key = s.user.get_username()
        per_user[key] = per_user.get(key, 0.0) + selectors.live_charge(s, now) / 3600
    return render(
        request,
        "compute/cohort_usage.html",
        {
            "cohort": cohort,
            "per_user": sorted(per_user.items()),
            "total": sum(per_user.values()),
            "plot": plots.usage_svg(_daily(rows), _("Cohort GPU-hours per day"), "GPU-h"),
        },
    )
