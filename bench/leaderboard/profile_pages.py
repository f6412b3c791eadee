"""Per-request CPU and queries of the leaderboard pages, in-process (Django's test client), for
an anonymous visitor, a participant and an organizer: the board page, its live fragment, its JSON
and the event page.

Fills the bench's event in `--data-dir` when it is not there yet (`fill.py`), then times each page
`--requests` times (CPU time of this process, best of `--repeat`) and counts its queries.
`--profile PAGE` prints cProfile's top functions for one page instead.

    .venv/bin/python bench/leaderboard/profile_pages.py --data-dir /tmp/lb
    .venv/bin/python bench/leaderboard/profile_pages.py --data-dir /tmp/lb --json

`--repo` runs the pages of another checkout (a `git worktree` of an earlier commit) on the same
data, so `ab.sh`-style loops can alternate before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def setup(repo: Path, data_dir: Path) -> None:
    os.environ.update(
        KC_DATA_DIR=str(data_dir),
        KC_DEBUG="0",
        KC_HTTPS="0",
        KC_SECRET_KEY=os.environ.get("KC_SECRET_KEY") or secrets.token_urlsafe(50),
        KC_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_SETTINGS_MODULE="kernelcamp.settings",
    )
    sys.path.insert(0, str(repo / "platform"))
    sys.path.insert(0, str(HERE))
    import django

    django.setup()


def viewers(password: str) -> dict[str, object]:
    """Anonymous, the fill's participant, and an organizer of the bench's event (made once)."""
    from fill import EVENT, VIEWER

    from accounts.models import User
    from events.models import Event, EventRole

    event = Event.objects.get(slug=EVENT)
    organizer, made = User.objects.get_or_create(username="lb-organizer")
    if made:
        organizer.set_password(password)
        organizer.save()
    EventRole.objects.get_or_create(event=event, user=organizer, role="organizer")
    return {
        "anonymous": None,
        "participant": User.objects.get(username=VIEWER),
        "organizer": organizer,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=HERE.parents[1])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--teams", type=int, default=80)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--profile", help="viewer:page, e.g. participant:event")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--queries", help="viewer:page: print that page's SQL")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    setup(args.repo.resolve(), args.data_dir)

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from fill import fill, filled_already
    from run import PASSWORD as password  # the bench's own logins

    call_command("migrate", "--no-input", verbosity=0)
    filled = filled_already() or fill(args.teams, args.entries, password)
    who = viewers(password)
    event = f"/events/{filled.event_slug}/"
    board = f"{event}challenges/{filled.challenge_slug}/board/"
    pages = {
        "board": board,
        "live": f"{board}live/?v=none",
        "json": board.rstrip("/") + ".json",
        "event": event,
    }
    clients = {}
    for name, user in who.items():
        client = Client(HTTP_HOST="127.0.0.1")
        if user is not None:
            client.force_login(user)
        clients[name] = client

    if args.profile:
        import cProfile
        import pstats

        name, page = args.profile.split(":")
        client = clients[name]
        client.get(pages[page])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            client.get(pages[page])
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("KC_PROFILE_SORT", "cumulative")).print_stats(45)
        return 0

    results: dict[str, dict] = {}
    for name, client in clients.items():
        for page, url in pages.items():
            if name == "anonymous" and page == "event":
                continue  # the event page asks anonymous visitors to sign in
            first = client.get(url)
            queries = []

            def count(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            # A wrapper, not CaptureQueriesContext: the request closes its connection at the end
            # (CONN_MAX_AGE 0) and the next one starts a new query log.
            with connection.execute_wrapper(count):
                client.get(url)
            best = float("inf")
            for _ in range(args.repeat):
                began = time.process_time()
                for _ in range(args.requests):
                    client.get(url)
                best = min(best, (time.process_time() - began) / args.requests)
            if args.queries == f"{name}:{page}":
                print("\n".join(queries))
            results[f"{name}:{page}"] = {
                "status": first.status_code,
                "cpu_ms": round(1000 * best, 2),
                "queries": len(queries),
            }
    if args.json:
        print(json.dumps(results))
    else:
        print(f"load {os.getloadavg()[0]:.1f}")
        for key, value in results.items():
            print(f"{key:<22} HTTP {value['status']}  {value['cpu_ms']:6.2f} ms  "
                  f"{value['queries']:3d} queries")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
