"""Spawn benchmark: launch-to-ready through the site vs a direct hub API spawn, then N
simultaneous launches (with a double click each) against a real hub on loopback.

    .venv/bin/python bench/spawn/run.py [--users 50] [--spawn-limit 10] [--rounds 3]

It uses a fresh SQLite database and hub in a temporary directory and prints its figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "platform"), str(REPO)]


def setup_django(tmp: Path) -> None:
    os.environ["KC_DATA_DIR"] = str(tmp)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kernelcamp.settings")
    os.environ["KC_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_people(n: int):
    from accounts.models import Organization, OrganizationMembership, User
    from compute.defaults import ensure_default_profiles
    from compute.models import Allocation, GpuProfile, ProfileGrant

    ensure_default_profiles()
    org = Organization.objects.create(slug="bench", name="Bench", kind="university")
    ProfileGrant.objects.create(
        profile=GpuProfile.objects.get(slug="cpu-simulator"), organization=org
    )
    Allocation.objects.create(organization=org, gpu_hours=1000)
    users = []
    for i in range(n):
        user = User.objects.create_user(f"bench{i:03d}", password=None)
        OrganizationMembership.objects.create(organization=org, user=user)
        Allocation.objects.create(organization=org, user=user, gpu_hours=10)
        users.append(user)
    return users


def direct_spawn(hub, name: str) -> float:
    hub.api("POST", f"/users/{name}")
    start = time.perf_counter()
    response = hub.api("POST", f"/users/{name}/server", json={"profile": "cpu-simulator"})
    assert response.status_code in (201, 202), response.text
    while not hub.api("GET", f"/users/{name}").json()["servers"].get("", {}).get("ready"):
        time.sleep(0.1)
    return time.perf_counter() - start


def site_spawn(user) -> float:
    from compute import services

    start = time.perf_counter()
    session = services.launch(user, "cpu-simulator")
    while session.status == "starting":
        time.sleep(0.1)
        services.refresh(session)
    assert session.status == "running", session.message
    return time.perf_counter() - start


def stop_all(hub) -> None:
    from compute import services
    from compute.models import HubSession

    for session in HubSession.objects.filter(status__in=HubSession.ACTIVE):
        services.stop(session)
    hub.stop_all_servers(wait=120)


def compare(hub, users, rounds: int) -> None:
    site, direct = [], []
    for i in range(rounds):
        site.append(site_spawn(users[i]))
        direct.append(direct_spawn(hub, f"direct{i}"))
        stop_all(hub)
    s, d = statistics.median(site), statistics.median(direct)
    print(
        f"launch-to-ready, median of {rounds}: site {s:.2f} s, direct hub API {d:.2f} s, ratio {s / d:.2f}"
    )
    print(
        f"  site runs: {', '.join(f'{x:.2f}' for x in site)}; direct: {', '.join(f'{x:.2f}' for x in direct)}"
    )


def burst(hub, users, limit: int) -> None:
    from django.db import close_old_connections

    from compute import services
    from compute.models import HubSession

    max_pending, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            active = hub.api("GET", "/users", params={"state": "active"}).json()
            pending = sum(
                1 for u in active if (u["servers"].get("") or {}).get("pending") == "spawn"
            )
            max_pending[0] = max(max_pending[0], pending)
            time.sleep(0.2)

    def click(user):
        try:
            return services.launch(user, "cpu-simulator")
        except services.SessionError as exc:
            return str(exc)
        finally:
            close_old_connections()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2 * len(users)) as pool:
        results = list(pool.map(click, [u for u in users for _ in (0, 1)]))  # a double click each
    launched = time.perf_counter() - start
    refused = [r for r in results if isinstance(r, str)]
    reasons = Counter(refused)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        starting = list(HubSession.objects.filter(status="starting"))
        if not starting:
            break
        for session in starting:
            services.refresh(session)
        time.sleep(0.5)
    all_ready = time.perf_counter() - start
    stop.set()
    watcher.join()
    running = HubSession.objects.filter(status="running").count()
    per_user = max(
        HubSession.objects.filter(user=u, status__in=HubSession.ACTIVE).count() for u in users
    )
    hub_active = len(hub.api("GET", "/users", params={"state": "active"}).json())
    print(
        f"{len(users)} simultaneous launches (+1 double click each), hub concurrent_spawn_limit {limit}:"
    )
    print(f"  all requests answered in {launched:.1f} s; all ready in {all_ready:.1f} s")
    print(
        f"  running rows {running}, hub servers {hub_active}, most active rows per user {per_user}"
    )
    print(
        f"  double clicks refused {len(refused)}; failed {HubSession.objects.filter(status='failed').count()}"
    )
    print(f"  most spawns pending at once (sampled every 0.2 s): {max_pending[0]}")
    for reason, count in reasons.most_common():
        print(f"    refused x{count}: {reason}")
    stop_all(hub)
    rows = list(HubSession.objects.filter(status="stopped"))
    consistent = all(
        abs(r.charged_seconds - r.runtime_seconds() * r.cost_weight) < 1e-6 for r in rows
    )
    print(f"  after stopping: {len(rows)} stopped rows, charges = runtime x weight: {consistent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-limit", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kc-bench-"))
    setup_django(tmp)
    from django.conf import settings

    from compute.defaults import default_profile_objects
    from compute.profiles import render_local
    from tests.compute.hubproc import Hub

    os.environ["KC_HUB_CONCURRENT_SPAWN_LIMIT"] = str(args.spawn_limit)
    os.environ["KC_HUB_IDLE_CULLER"] = "0"
    hub = Hub(tmp, "http://127.0.0.1:9", render_local(default_profile_objects()))
    started = time.perf_counter()
    hub.start()
    print(f"hub ready in {time.perf_counter() - started:.1f} s")
    settings.KC_HUB_URL, settings.KC_HUB_API_TOKEN = hub.url, hub.token
    settings.KC_SPAWN_TIMEOUT_S = 600
    try:
        users = make_people(args.users)
        compare(hub, users, args.rounds)
        from compute.models import HubSession

        HubSession.objects.all().delete()
        burst(hub, users, args.spawn_limit)
    finally:
        hub.shutdown()


if __name__ == "__main__":
    main()
