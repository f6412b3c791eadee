"""The demo hackathon's help queue: one question waiting, one being answered, two answered
earlier (so the organizer's wait and resolution figures show something)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from helpqueue.models import HelpRequest


def load_demo_help(event, askers: list, mentor) -> list[str]:
    if HelpRequest.objects.filter(event=event).exists() or len(askers) < 2:
        return []
    now = timezone.now()
    for minutes_ago, wait, took, asker in [(95, 4, 12, askers[0]), (50, 9, 6, askers[1])]:
        asked = now - timedelta(minutes=minutes_ago)
        HelpRequest.objects.create(
            event=event,
            asker=asker,
            topic="Out-of-bounds writes in my reduction kernel",
            location="Table 4",
            created_at=asked,
            status=HelpRequest.Status.RESOLVED,
            claimed_by=mentor,
            claimed_at=asked + timedelta(minutes=wait),
            first_claimed_at=asked + timedelta(minutes=wait),
            resolved_at=asked + timedelta(minutes=wait + took),
            resolved_by=mentor,
        )
    HelpRequest.objects.create(
        event=event,
        asker=askers[0],
        topic="How do I time a kernel without events in the simulator?",
        location="Table 4",
        created_at=now - timedelta(minutes=6),
        status=HelpRequest.Status.CLAIMED,
        claimed_by=mentor,
        claimed_at=now - timedelta(minutes=2),
        first_claimed_at=now - timedelta(minutes=2),
    )
    HelpRequest.objects.create(
        event=event,
        asker=askers[-1],
        topic="Shared memory bank conflicts: is my padding right?",
        location="Room 2, by the window",
        created_at=now - timedelta(minutes=3),
    )
    return [f"  help queue: /help/event/{event.slug}/queue/ (mentor {mentor.username})"]
