"""Reads for events: phases in the event's time zone, the live banner, the organizer's dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from events.models import Announcement, Event, EventRole, Phase


def phase_is_open(event: Event, kind: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return event.phases.filter(kind=kind, starts_at__lte=now, ends_at__gt=now).exists()


def phase_end(event: Event, kind: str) -> datetime | None:
    return event.phases.filter(kind=kind).values_list("ends_at", flat=True).first()


def current_phase(event: Event, now: datetime | None = None) -> Phase | None:
    now = now or timezone.now()
    return event.phases.filter(starts_at__lte=now, ends_at__gt=now).first()


@dataclass
class PhaseRow:
    phase: Phase
    starts_local: datetime
    ends_local: datetime
    current: bool


def phases_in_event_zone(event: Event, now: datetime | None = None) -> list[PhaseRow]:
    return phase_rows(event, list(event.phases.all()), now)


@dataclass
class EventPageParts:
    """What the event page shows of an event beside its own row, cached per content version."""

    organization: str
    phases: list
    tracks: list
    prizes: list
    announcements: list


def event_page_parts(event: Event) -> EventPageParts:
    """Five queries on a cache miss, none on a hit: the key carries the event's content version,
    which every write to these parts raises (events.signals), in the row the page reads anyway."""
    from django.core.cache import cache

    # The organization's id too: an event moved to another organization (the admin's event form)
    # saves only the event row, which raises no content version.
    key = f"kc:event-parts:{event.pk}:{event.content_version}:{event.organization_id}"
    parts = cache.get(key)
    if parts is None:
        parts = EventPageParts(
            organization=str(event.organization),
            phases=list(event.phases.all()),
            tracks=list(event.tracks.all()),
            prizes=list(event.prizes.select_related("track")),
            announcements=list(event.announcements.all()[:20]),
        )
        cache.set(key, parts, 3600)
    return parts


def phase_rows(event: Event, phases: list, now: datetime | None = None) -> list[PhaseRow]:
    """`phases_in_event_zone` for phases already loaded."""
    now = now or timezone.now()
    return [
        PhaseRow(
            phase=p,
            starts_local=timezone.localtime(p.starts_at, event.zone),
            ends_local=timezone.localtime(p.ends_at, event.zone),
            current=p.starts_at <= now < p.ends_at,
        )
        for p in phases
    ]


def latest_announcement(event: Event) -> Announcement | None:
    return event.announcements.first()


def open_for_registration(user, now: datetime | None = None):
    """Open events whose registration phase is running and that the user has not joined, nor
    holds a role at (a judge or mentor finds the event under "Events", not offered to sign up)."""
    now = now or timezone.now()
    return (
        Event.objects.filter(
            registration_mode=Event.RegistrationMode.OPEN,
            phases__kind="registration",
            phases__starts_at__lte=now,
            phases__ends_at__gt=now,
        )
        .exclude(registrations__user=user)
        .exclude(roles__user=user)
        .distinct()
    )


def events_for(user):
    if user.is_staff:
        return Event.objects.all()
    return Event.objects.filter(roles__user=user).distinct()


def dashboard(event: Event) -> dict:
    """Counts for the organizer: registrations, teams, submissions, judging progress."""
    from judging.selectors import judging_progress
    from projects.models import Project
    from teams.models import Team, TeamMembership

    teams = Team.objects.filter(event=event)
    in_teams = TeamMembership.objects.filter(event=event).count()
    registered = event.registrations.count()
    return {
        "registered": registered,
        "seat_limit": event.seat_limit,
        "teams": teams.count(),
        "in_teams": in_teams,
        "without_team": registered - in_teams,
        "projects": Project.objects.filter(event=event, versions__isnull=False).distinct().count(),
        "judges": EventRole.objects.filter(event=event, role="judge").count(),
        "judging": judging_progress(event),
        "recent_registrations": event.registrations.select_related("user").order_by("-created_at")[
            :20
        ],
    }


def teams_for_mentors(event: Event) -> list:
    """Each team with its members and its project's title and track (the latest version)."""
    from projects.models import ProjectVersion
    from teams.models import Team

    teams = list(
        Team.objects.filter(event=event).prefetch_related("memberships__user").order_by("name")
    )
    latest: dict[int, ProjectVersion] = {}
    for version in (
        ProjectVersion.objects.filter(project__team__event=event)
        .select_related("project", "track")
        .order_by("number")
    ):
        latest[version.project.team_id] = version
    for team in teams:
        team.members = [m.user for m in team.memberships.all()]
        team.latest_version = latest.get(team.pk)
    return teams


def looking_for_team(event: Event):
    from teams.models import LookingForTeam

    return LookingForTeam.objects.filter(event=event).select_related("user")
