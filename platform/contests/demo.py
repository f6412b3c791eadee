"""The demo hackathon's scored challenges (for `manage.py load_demo`, through events.demo):
`row-softmax` (a CPU kernel) and `churn-predictions`, their baselines and a few team entries.
Entries are queued here and scored by the contest worker the run command starts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings

from contests.models import Challenge, Entry
from contests.publishing import PublishError, publish_challenge
from contests.services import EntryError, submit_entry

#: slug -> files (in the challenge folder) that the demo teams hand in, in team order.
DEMO_CHALLENGES = {
    "row-softmax": ["starter.py", "baseline.py"],
    "churn-predictions": ["baseline.csv", "public/sample_submission.csv"],
}


def load_demo_challenges(event) -> list[str]:
    """Publish the demo challenges to the event (idempotent) and hand in the teams' first
    entries once; return lines for the command to print."""
    lines = []
    teams = list(event.teams.prefetch_related("memberships__user")[:2])
    for slug, files in DEMO_CHALLENGES.items():
        folder = Path(settings.KC_CHALLENGES_DIR) / slug
        if not (folder / "challenge.toml").is_file():
            continue
        try:
            challenge = publish_challenge(slug, event).challenge
        except PublishError as exc:
            lines.append(f"  challenge {slug} not published: {exc}")
            continue
        if challenge.freeze_at is None:
            Challenge.objects.filter(pk=challenge.pk).update(
                freeze_at=event.ends_at - timedelta(hours=2)
            )
        lines.append(f"  challenge: /events/{event.slug}/challenges/{slug}/board/")
        if Entry.objects.filter(challenge=challenge, is_baseline=False).exists():
            continue
        for team, name in zip(teams, files, strict=False):
            member = team.memberships.all()[0].user
            try:
                submit_entry(challenge, member, (folder / name).read_bytes(), Path(name).name)
            except EntryError as exc:  # e.g. the event is not running
                lines.append(f"  {slug}: no demo entry for {team.name}: {exc}")
    return lines
