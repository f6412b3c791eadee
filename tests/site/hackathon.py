"""Builders for hackathon tests: an event with phases, registered people, teams, projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.site.factories import make_event, make_user


def hackathon(slug: str = "hack", **fields):
    """An open event whose registration, hacking and submission phases are running now."""
    from events.models import Event, Phase

    event = make_event(slug)
    now = timezone.now()
    Event.objects.filter(pk=event.pk).update(**fields)
    event.refresh_from_db()
    for kind, start, end in [
        ("registration", -2, 24),
        ("hacking", -1, 40),
        ("submission", -1, 48),
        ("judging", 48, 60),
        ("results", 60, 72),
    ]:
        Phase.objects.create(
            event=event,
            kind=kind,
            starts_at=now + timedelta(hours=start),
            ends_at=now + timedelta(hours=end),
        )
    return event


def registered(event, *names: str) -> list:
    from events.services import register

    users = [make_user(name) for name in names]
    for user in users:
        register(event, user, code=event.invite_code)
    return users


def team_with_project(event, name: str, members: list, title: str | None = None):
    from projects.services import ProjectDraft, submit_version
    from teams.services import create_team, join_team

    team = create_team(event, members[0], name)
    for member in members[1:]:
        join_team(member, team.join_code)
    submit_version(
        team, members[0], ProjectDraft(title=title or f"{name} project", description="It works.")
    )
    return team


# URL name -> how the permission matrix reaches it: "slug" (the event), "team", "code", "version",
# "assignment". Every hackathon URL is here, so tests/site/test_permission_matrix.py can build it.
HACKATHON_URLS = {
    "event-register": "slug",
    "event-banner": "slug",
    "event-announce": "slug",
    "event-dashboard": "slug",
    "event-teams": "slug",
    "team-create": "slug",
    "team-join-code": "slug",
    "team-leave": "slug",
    "team-looking": "slug",
    "event-manage": "slug",
    "event-mentor": "slug",
    "event-gpu": "slug",
    "event-gpu-card": "slug",
    "judge-home": "slug",
    "judge-conflict": "slug",
    "judging-manage": "slug",
    "event-results": "slug",
    "event-results-csv": "slug",
    "team-join": "code",
    "team-organize": "team",
    "team-project": "team",
    "project-file": "version",
    "judge-score": "assignment",
    "help-home": "queue",
    "help-queue": "queue",
    "help-queue-json": "queue",
    "help-request-json": "help",
    "help-action": "help-claim",
}


def hackathon_world(slug: str = "matrix-hack") -> dict:
    """An event with an organizer, a mentor, a judge, a registered participant without a team,
    and one team (two members) whose project has a file and is assigned to the judge."""
    from judging.models import Criterion, JudgeAssignment
    from projects.services import ProjectDraft, submit_version

    event = hackathon(slug)
    people = {role: make_user(f"{slug}-{role}") for role in ("organizer", "mentor", "judge")}
    for role, user in people.items():
        event.roles.create(user=user, role=role)
    member, other_member, participant = registered(
        event, f"{slug}-member", f"{slug}-member2", f"{slug}-participant"
    )
    team = team_with_project(event, "Matrix team", [member, other_member])
    version = submit_version(
        team,
        member,
        ProjectDraft(
            title="With a file",
            description="d",
            file_name="solution.ipynb",
            file_bytes=b'{"cells": []}',
        ),
    )
    Criterion.objects.create(event=event, name="Speed", weight=2)
    assignment = JudgeAssignment.objects.create(
        event=event, project=team.project, judge=people["judge"]
    )
    from helpqueue.services import ask

    help_request = ask(event, member, "Our kernel is slow", "Table 7")
    return {
        "help": help_request,
        "event": event,
        "team": team,
        "version": version,
        "assignment": assignment,
        "member": member,
        "participant": participant,
        **people,
    }


def hackathon_url(name: str, world: dict) -> str:
    from django.urls import reverse

    kind = HACKATHON_URLS[name]
    if kind == "queue":
        return reverse(name, args=["event", world["event"].slug])
    if kind == "help-claim":
        return reverse(name, args=[world["help"].pk, "claim"])
    arg = {
        "slug": world["event"].slug,
        "code": world["team"].join_code,
        "team": world["team"].pk,
        "version": world["version"].pk,
        "assignment": world["assignment"].pk,
        "help": world["help"].pk,
    }[kind]
    return reverse(name, args=[arg])


@pytest.fixture(autouse=True)
def in_english():
    """Service messages are matched in English: a Korean page earlier in the same thread (the
    locale middleware activates the user's language) must not change them."""
    from django.utils import translation

    with translation.override("en"):
        yield
