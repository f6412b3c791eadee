"""Event pages: the event, registration, the live banner, announcements, the dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can, require
from events import selectors, services
from events.models import Event, EventRole


@login_required
def event_list(request):
    return render(
        request,
        "events/event_list.html",
        {
            "events": selectors.events_for(request.user),
            "open_events": selectors.open_for_registration(request.user),
        },
    )


@login_required
def event_detail(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.view", event)
    may_manage = can(request.user, "event.manage", event)
    roles = (
        EventRole.objects.filter(event=event)
        .select_related("user")
        .order_by("role", "user__username")
    )
    if not may_manage:
        # Only organizers see the participants; in the query, since they are most of the rows.
        roles = roles.exclude(role=EventRole.Role.PARTICIPANT)
    parts = selectors.event_page_parts(event)
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "organization": parts.organization,
            "roles": roles,
            "phases": selectors.phase_rows(event, parts.phases),
            "announcements": parts.announcements,
            "tracks": parts.tracks,
            "prizes": parts.prizes,
            "may_manage": may_manage,
            "may_judge": can(request.user, "event.judge", event),
            "may_participate": can(request.user, "event.participate", event),
            "may_see_results": can(request.user, "results.view", event),
            "may_ask_help": can(request.user, "help.ask", event),
            "may_answer_help": can(request.user, "help.answer", event),
        },
    )


@login_required
def event_register(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.register", event)
    registered = event.registrations.filter(user=request.user).exists()
    if request.method == "POST":
        try:
            services.register(event, request.user, code=request.POST.get("code", ""))
        except services.RegistrationError as exc:
            messages.error(request, str(exc))
            return redirect("event-register", slug=event.slug)
        messages.success(request, _("You are registered for %(event)s.") % {"event": event.title})
        return redirect("event-teams", slug=event.slug)
    return render(
        request,
        "events/event_register.html",
        {"event": event, "registered": registered, "phases": selectors.phases_in_event_zone(event)},
    )


@login_required
def event_banner(request, slug: str):
    """The latest announcement, polled by htmx on every page of the event."""
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.view", event)
    return render(
        request,
        "events/_banner.html",
        {"event": event, "announcement": selectors.latest_announcement(event)},
    )


@login_required
@require_POST
def event_announce(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    try:
        services.post_announcement(event, request.user, request.POST.get("body", ""))
    except ValueError as exc:
        messages.error(request, str(exc))
    return redirect("event-dashboard", slug=event.slug)


@login_required
def event_dashboard(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    return render(
        request,
        "events/event_dashboard.html",
        {"event": event, "stats": selectors.dashboard(event)},
    )
