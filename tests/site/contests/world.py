"""Builders for contest tests: a hackathon with the tiny predictions challenge published
(`contest_world`), and the browser journeys' hackathon with a bundled challenge (`journey_world`)."""

from __future__ import annotations

from pathlib import Path

from tests.site.factories import make_user
from tests.site.hackathon import hackathon, registered

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contests"
TINY = FIXTURES / "tiny-preds"


def scored(public: float | None, private: float | None = None, **extra) -> dict:
    """A harness result as `python -m grader score --json` prints it (docs/challenges.md)."""
    return {
        "challenge": "tiny-preds",
        "kind": "predictions",
        "status": "scored",
        "reason_code": "",
        "reason": "",
        "ranked_by": "metric",
        "higher_is_better": True,
        "public": {"score": public, "detail": {}},
        "private": {"score": public if private is None else private, "detail": {}},
        "flags": [],
        "timings": [],
        "device": "cpu",
        "harness_version": 1,
        **extra,
    }


def contest_world(slug: str = "contest-hack") -> dict:
    """An event with organizer, mentor, judge, two teams (two members each), a solo participant
    and the tiny challenge published to it (its baseline entry queued, not yet scored)."""
    from contests.publishing import publish_challenge

    from teams.services import create_team, join_team

    event = hackathon(slug)
    people = {role: make_user(f"{slug}-{role}") for role in ("organizer", "mentor", "judge")}
    for role, user in people.items():
        event.roles.create(user=user, role=role)
    a1, a2, b1, b2, solo = registered(
        event, f"{slug}-a1", f"{slug}-a2", f"{slug}-b1", f"{slug}-b2", f"{slug}-solo"
    )
    team_a = create_team(event, a1, "Alpha")
    join_team(a2, team_a.join_code)
    team_b = create_team(event, b1, "Bravo")
    join_team(b2, team_b.join_code)
    challenge = publish_challenge("tiny-preds", event, folder=TINY).challenge
    return {
        "event": event,
        "challenge": challenge,
        "team_a": team_a,
        "team_b": team_b,
        "a1": a1,
        "a2": a2,
        "b1": b1,
        "b2": b2,
        "solo": solo,
        **people,
    }


def journey_world(slug: str, challenge: str, rival_team: str) -> dict:
    """The browser journeys' hackathon: an organizer, the team "Warp Drive" (hacker and mate), the
    rival's team of one named `rival_team`, and the bundled `challenge` published to the event
    (its baseline entry queued, not yet scored). The people keep plain names ("organizer",
    "hacker", "mate", "rival"): a journey signs in as them."""
    from contests.publishing import publish_challenge

    from teams.services import create_team, join_team

    event = hackathon(slug)
    organizer = make_user("organizer")
    event.roles.create(user=organizer, role="organizer")
    hacker, mate, rival = registered(event, "hacker", "mate", "rival")
    team = create_team(event, hacker, "Warp Drive")
    join_team(mate, team.join_code)
    return {
        "event": event,
        "organizer": organizer,
        "hacker": hacker,
        "mate": mate,
        "rival": rival,
        "team": team,
        "rival_team": create_team(event, rival, rival_team),
        "challenge": publish_challenge(challenge, event).challenge,
    }


#: A predictions file the tiny challenge takes; what it scores is set by `scored`.
TINY_CSV = b"id,label\n1,0\n"


def hand_in(world: dict, who: str, public: float | None, private: float | None = None):
    """`who` hands in through the service and the entry is scored `public` / `private`."""
    from contests import services

    entry = services.submit_entry(world["challenge"], world[who], TINY_CSV, "p.csv")
    run_to_result(entry.pk, scored(public, private))
    return entry


def run_to_result(entry_id: int, result: dict) -> None:
    """Claim the entry as a worker would and record the given harness result."""
    from contests import queue
    from contests.scoring import record_result

    attempt = queue.claim(entry_id)
    assert attempt is not None
    assert record_result(entry_id, attempt, result)


# URL name -> method, for the permission matrices (every contests URL is here).
CONTEST_URLS = {
    "challenge-list": "get",
    "challenge-detail": "get",
    "challenge-enter": "post",
    "challenge-mine": "get",
    "challenge-download": "get",
    "challenge-board": "get",
    "challenge-board-live": "get",
    "challenge-board-json": "get",
    "challenge-board-csv": "get",
    "challenge-manage": "get",
    "challenge-progress": "get",
    "challenge-settings": "post",
    "challenge-freeze": "post",
    "challenge-reveal": "post",
    "challenge-rescore": "post",
    "entry-detail": "get",
    "entry-file": "get",
    "entry-final": "post",
    "entry-rescore": "post",
    "entry-accept": "post",
}
#: The public board and its live forms: anyone, signed in or not (Challenge.public_board).
CONTEST_PUBLIC = {"challenge-board", "challenge-board-live", "challenge-board-json"}


def contest_url(name: str, world: dict) -> str:
    """The URL of a contests view in the world; entry URLs point at team Alpha's entry."""
    from contests.services import submit_entry
    from django.urls import reverse

    if name == "challenge-list":
        return reverse(name, args=[world["event"].slug])
    if name.startswith("entry-"):
        entry = world.get("entry") or submit_entry(
            world["challenge"], world["a1"], b"id,label\n1,0\n", "p.csv"
        )
        world["entry"] = entry
        return reverse(name, args=[entry.pk])
    if name == "challenge-download":
        return reverse(name, args=[world["event"].slug, world["challenge"].slug, "public/test.csv"])
    return reverse(name, args=[world["event"].slug, world["challenge"].slug])
