"""A hackathon at full size in the bench's own database: an event with N teams, the demo CPU
kernel challenge published through `contests.publishing`, and M scored entries.

People, registrations and teams go through the site's services (`events.services.register`,
`teams.services.create_team`/`join_team`); the entries are bulk-inserted (the daily quota would
refuse thousands through `submit_entry`, and scoring each through the harness would take hours),
then every board row is built by `contests.boards.rebuild_board`, the same `refresh_rows` a
landing score runs. Needs Django set up (run.py does it).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

EVENT = "leaderboard-bench"
CHALLENGE = "row-softmax"
VIEWER = "lb-viewer"


@dataclass
class Filled:
    event_slug: str
    challenge_slug: str
    challenge_id: int
    teams: int
    entries: int
    viewer: str


def fill(teams: int, entries: int, password: str, seed: int = 12) -> Filled:
    from contests.boards import rebuild_board
    from contests.models import Challenge, Entry
    from contests.publishing import publish_challenge

    from accounts.models import Organization, User
    from events.models import Event, Phase
    from events.services import register
    from teams.models import Team
    from teams.services import create_team, join_team

    rng = random.Random(seed)
    now = timezone.now()
    org = Organization.objects.create(slug="lb-bench", name="Bench University", kind="university")
    event = Event.objects.create(
        slug=EVENT,
        organization=org,
        title="Leaderboard bench hackathon",
        summary="Many teams, many entries.",
        starts_at=now - timedelta(hours=20),
        ends_at=now + timedelta(hours=28),
        team_size_max=4,
    )
    Phase.objects.create(
        event=event,
        kind="hacking",
        starts_at=now - timedelta(hours=20),
        ends_at=now + timedelta(hours=20),
    )
    hashed = make_password(password)
    people = User.objects.bulk_create(
        [User(username=f"lb{t:03d}m{m}", password=hashed) for t in range(teams) for m in range(2)]
        + [User(username=VIEWER, password=hashed)]
    )
    people = {u.username: u for u in User.objects.filter(username__startswith="lb")}
    team_ids = []
    for t in range(teams):
        first, second = people[f"lb{t:03d}m0"], people[f"lb{t:03d}m1"]
        register(event, first)
        register(event, second)
        team = create_team(event, first, f"Team {t:03d} {rng.choice(WORDS)}")
        join_team(second, team.join_code)
        team_ids.append(team.pk)
    # The viewer is the first team's third member: a participant who sees every page.
    register(event, people[VIEWER])
    join_team(people[VIEWER], Team.objects.get(pk=team_ids[0]).join_code)

    challenge = publish_challenge(CHALLENGE, event).challenge
    Challenge.objects.filter(pk=challenge.pk).update(freeze_at=None)
    # The baseline the publication queued is scored at 1.0 (the reference's own speed).
    Entry.objects.filter(challenge=challenge, is_baseline=True).update(
        status=Entry.Status.SCORED, ranked=True, public_score=1.0, private_score=1.0
    )
    skill = {t: rng.lognormvariate(0.4, 0.5) for t in team_ids}
    number = {t: n for n, t in enumerate(team_ids)}
    data = b"# a bench entry\n"
    digest = hashlib.sha256(data).hexdigest()
    rows = []
    for i in range(entries):
        team = rng.choice(team_ids)
        member = people[f"lb{number[team]:03d}m{i % 2}"]
        at = now - timedelta(seconds=rng.uniform(60, 20 * 3600))
        roll = rng.random()
        status = (
            Entry.Status.SCORED
            if roll < 0.90
            else Entry.Status.REJECTED
            if roll < 0.97
            else Entry.Status.ERROR
        )
        scored = status == Entry.Status.SCORED
        ranked = scored and roll < 0.87  # 3 % scored but flagged, held off the board
        public = skill[team] * rng.lognormvariate(0, 0.3) if scored else None
        rows.append(
            Entry(
                challenge=challenge,
                team_id=team,
                user=member,
                competitor=f"t{team}",
                label=f"try {i}",
                file=data,
                filename="entry.py",
                sha256=digest,
                size=len(data),
                created_at=at,
                queued_at=at,
                status=status,
                started_at=at,
                finished_at=at + timedelta(seconds=20),
                scored_version=challenge.version,
                public_score=public,
                private_score=public * rng.lognormvariate(0, 0.05) if scored else None,
                ranked=ranked,
                flags=[] if ranked or not scored else ["too-fast"],
                reason_code="" if scored else status,
                result={"status": status},
            )
        )
    Entry.objects.bulk_create(rows, batch_size=500)
    rebuild_board(challenge)
    return Filled(EVENT, challenge.slug, challenge.pk, teams, entries, VIEWER)


def filled_already() -> Filled | None:
    """The bench's event when this database has it already (`--data-dir` reused)."""
    from contests.models import Challenge, Entry

    from teams.models import Team

    challenge = Challenge.objects.filter(event__slug=EVENT, slug=CHALLENGE).first()
    if challenge is None:
        return None
    teams = Team.objects.filter(event=challenge.event).count()
    entries = Entry.objects.filter(challenge=challenge, is_baseline=False).count()
    return Filled(EVENT, CHALLENGE, challenge.pk, teams, entries, VIEWER)


def land_score(challenge_id: int, rng: random.Random) -> None:
    """One entry scored now, written as the scoring worker writes it: the entry, the
    competitor's board rows and the board version in one transaction."""
    from contests.boards import refresh_rows
    from contests.models import BoardRow, Challenge, Entry

    challenge = Challenge.objects.get(pk=challenge_id)
    row = (
        BoardRow.objects.filter(challenge=challenge, is_baseline=False, team__isnull=False)
        .order_by("?")
        .first()
    )
    now = timezone.now()
    score = (row.score or 1.0) * rng.lognormvariate(0, 0.1)
    with transaction.atomic():
        Entry.objects.create(
            challenge=challenge,
            team_id=row.team_id,
            competitor=row.competitor,
            file=b"# landed\n",
            filename="entry.py",
            sha256="0" * 64,
            size=9,
            created_at=now,
            queued_at=now,
            status=Entry.Status.SCORED,
            finished_at=now,
            public_score=score,
            private_score=score,
            ranked=True,
        )
        refresh_rows(challenge, row.competitor, now)
        Challenge.objects.filter(pk=challenge.pk).update(board_version=F("board_version") + 1)


WORDS = [
    "Warp", "Tile", "Shuffle", "Atomic", "Stride", "Bank", "Fused", "Ragged", "Block", "Lane",
    "Coalesce", "Occupancy", "Register", "Roofline", "Stream", "Kernel",
]  # fmt: skip
