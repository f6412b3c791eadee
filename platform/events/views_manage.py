"""Organizer pages: edit the event, its schedule, tracks, prizes and who organizes, mentors and
judges it; and the mentors' page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import can, require
from events import selectors, services
from events.forms import EventForm, PrizeForm, RoleForm, ScheduleForm, TrackForm
from events.models import Event, EventRole


def _forms(event: Event, data=None, which: str = "") -> dict:
    """Each form bound only when it is the one posted."""

    def bound(name: str):
        return data if which == name else None

    return {
        "event_form": EventForm(bound("event"), instance=event, prefix="event"),
        "schedule_form": ScheduleForm(bound("schedule"), event=event, prefix="phase"),
        "track_form": TrackForm(bound("track"), prefix="track"),
        "prize_form": PrizeForm(bound("prize"), event=event, prefix="prize"),
        "role_form": RoleForm(bound("role"), prefix="role"),
    }


def _save(event: Event, which: str, forms: dict, post) -> str | None:
    """Apply the posted form; returns the message to show, or None when it has errors."""
    if which == "event" and forms["event_form"].is_valid():
        forms["event_form"].save()
        return _("The event is saved.")
    if which == "schedule" and forms["schedule_form"].is_valid():
        services.set_schedule(event, forms["schedule_form"].phases())
        return _("The schedule is saved.")
    if which == "track" and forms["track_form"].is_valid():
        track = forms["track_form"].save(commit=False)
        track.event = event
        track.save()
        return _("Track added.")
    if which == "prize" and forms["prize_form"].is_valid():
        prize = forms["prize_form"].save(commit=False)
        prize.event = event
        prize.save()
        return _("Prize added.")
    if which == "role" and forms["role_form"].is_valid():
        person, role = (
            forms["role_form"].cleaned_data["person"],
            forms["role_form"].cleaned_data["role"],
        )
        services.grant_role(event, person, role)
        return _("%(name)s is now %(role)s.") % {
            "name": person.get_username(),
            "role": EventRole.Role(role).label,
        }
    if which == "revoke-role":
        role = event.roles.filter(pk=post.get("pk") or 0).select_related("user").first()
        if role is None:
            return _("That role was already taken back.")
        services.revoke_role(event, role.user, role.role)  # RoleError: shown by the view
        return _("Role taken back.")
    if which == "delete-track":
        event.tracks.filter(pk=post.get("pk") or 0).delete()
        return _("Track removed.")
    if which == "delete-prize":
        event.prizes.filter(pk=post.get("pk") or 0).delete()
        return _("Prize removed.")
    return None


@login_required
def event_manage(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.manage", event)
    # Date-times are typed and shown in the event's own time zone, whatever the organizer's.
    with timezone.override(event.zone):
        which = request.POST.get("form", "") if request.method == "POST" else ""
        forms = _forms(event, request.POST or None, which)
        if which:
            try:
                done = _save(event, which, forms, request.POST)
            except services.RoleError as exc:
                messages.error(request, str(exc))
                return redirect("event-manage", slug=event.slug)
            if done:
                messages.success(request, done)
                return redirect("event-manage", slug=event.slug)
            messages.error(request, _("Please correct the errors below."))
        return render(
            request,
            "events/event_manage.html",
            {
                "event": event,
                "tracks": event.tracks.all(),
                "prizes": event.prizes.select_related("track"),
                "staff_roles": event.roles.exclude(role=EventRole.Role.PARTICIPANT)
                .select_related("user")
                .order_by("role", "user__username"),
                **forms,
            },
        )


@login_required
def event_mentor(request: HttpRequest, slug: str) -> HttpResponse:
    """What a mentor needs at hand: the help queue, the teams and their projects, who is looking
    for a team, the latest announcements."""
    event = get_object_or_404(Event, slug=slug)
    require(request.user, "event.mentor", event)
    return render(
        request,
        "events/event_mentor.html",
        {
            "event": event,
            "teams": selectors.teams_for_mentors(event),
            "looking": selectors.looking_for_team(event),
            "announcements": event.announcements.all()[:5],
            "phases_now": [r.phase for r in selectors.phases_in_event_zone(event) if r.current],
            "may_answer_help": can(request.user, "help.answer", event),
        },
    )
