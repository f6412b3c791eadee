"""A small running hackathon for `manage.py load_demo`: phases around now, two teams with
projects, a looking-for-a-team note, a weighted rubric, an assigned judge and a help queue
(`manage.py seed_compute --demo` gives it a GPU pool and each team its hours)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from events.models import Event, EventRole, Phase, Prize, Track
from events.services import post_announcement, register

DEMO_EVENT = "gpu-hackathon-demo"


def load_demo_event(organization, organizer, participants: list, make_user: Callable) -> list[str]:
    """Create the demo hackathon once (idempotent); return lines for the command to print."""
    from judging.models import Criterion
    from judging.services import assign_judges
    from projects.services import ProjectDraft, submit_version
    from teams.services import create_team, join_team, set_looking

    judge = make_user("judge1", "Jun Judge")
    mentor = make_user("mentor1", "Min Mentor")
    loner = make_user("hacker1", "Hana Hacker")
    lines = [
        f"  hackathon: /events/{DEMO_EVENT}/ (organizer {organizer.username}, judge "
        f"{judge.username}, mentor {mentor.username}, participants "
        f"{', '.join(p.username for p in participants)}, {loner.username})"
    ]
    from contests.demo import load_demo_challenges

    if Event.objects.filter(slug=DEMO_EVENT).exists():
        return lines + load_demo_challenges(Event.objects.get(slug=DEMO_EVENT))
    now = timezone.now()
    event = Event.objects.create(
        slug=DEMO_EVENT,
        organization=organization,
        title="48-hour GPU Hackathon",
        summary="Make a kernel faster, or make something new with one.",
        rules="Teams of 1 to 4. Code written during the event. Be kind.",
        starts_at=now - timedelta(hours=20),
        ends_at=now + timedelta(hours=28),
        seat_limit=300,
        team_size_max=4,
        judges_per_project=1,
    )
    for kind, start, end in [
        ("registration", -72, 4),
        ("hacking", -20, 20),
        ("submission", -20, 22),
        ("judging", 22, 26),
        ("results", 26, 48),
    ]:
        Phase.objects.create(
            event=event,
            kind=kind,
            starts_at=now + timedelta(hours=start),
            ends_at=now + timedelta(hours=end),
        )
    speed = Track.objects.create(event=event, name="Speed", description="Beat the baseline.")
    Track.objects.create(event=event, name="Open", description="Anything that runs on a GPU.")
    Prize.objects.create(event=event, track=speed, title="Fastest kernel", description="A GPU.")
    EventRole.objects.get_or_create(event=event, user=organizer, role="organizer")
    EventRole.objects.get_or_create(event=event, user=judge, role="judge")
    EventRole.objects.get_or_create(event=event, user=mentor, role="mentor")
    for person in [*participants, loner]:
        register(event, person)
    for order, (name, weight, guidance) in enumerate(
        [
            ("Speed-up", 3, "Measured against the stated baseline, on the same GPU."),
            ("Correctness", 2, "Tests pass; edge cases handled."),
            ("Presentation", 1, "Clear write-up and demo."),
        ]
    ):
        Criterion.objects.create(
            event=event, name=name, weight=weight, guidance=guidance, order=order
        )
    first, second, *rest = participants
    warp = create_team(event, first, "Warp Drive")
    join_team(second, warp.join_code)
    submit_version(
        warp,
        first,
        ProjectDraft(
            "Tiled matmul, 4x faster",
            "Shared-memory tiling with double buffering.",
            repository_url="https://git.example.org/warp-drive",
            track_id=speed.pk,
        ),
    )
    if rest:
        tiles = create_team(event, rest[0], "Tile Masters")
        submit_version(tiles, rest[0], ProjectDraft("Softmax in one pass", "Online softmax."))
    set_looking(event, loner, "numba-cuda, profiling")
    post_announcement(event, organizer, "Final submissions close in 22 hours. Mentors in room 2.")
    assign_judges(event, 1)
    from helpqueue.demo import load_demo_help

    lines += load_demo_help(event, [first, second, *rest, loner][-3:], mentor)
    return lines + load_demo_challenges(event)
