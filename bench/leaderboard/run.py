"""Leaderboard pages under a constant arrival rate (issue 12, point 6).

Fills a fresh database (a temporary data directory) with an event of 80 teams and 10,000
entries on one challenge (`fill.py`), starts the run command's own web server configuration
(`gunicorn -c deploy/gunicorn.conf.py`, production settings as scripts/run.sh sets them) on a
loopback port, logs one participant in, and drives the board page, the board JSON and the event
page in turn at a constant arrival rate (`load.py`: open loop, latency from each request's due
time). While it runs, a score lands every `--land-every` seconds as the scoring worker writes one
(entry, board rows, board version), so the cached boards are rebuilt during the measurement.

Then the same, on the same port with the same config, with the board computed by a naive
aggregate over all entries per request (`naive.py`, switched on per request by `naive_site.py`).

Prints p50/p95/p99/errors at `--rate` (200 req/s) for both, the highest rate whose p95 stays
under `--slo` ms (100) for both, their ratios, and saves a plot of latency against rate.

    .venv/bin/python bench/leaderboard/run.py                 # 80 teams, 10,000 entries (~3 min)
    .venv/bin/python bench/leaderboard/run.py --tiny          # a few seconds: the smoke test
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from load import TIMEOUT_S, Phase, run_phase  # noqa: E402
from report import describe, plot  # noqa: E402


def _burst():
    """bench/burst/run.py by its path (both benches' scripts are named run.py)."""
    spec = importlib.util.spec_from_file_location("burst_run", HERE.parent / "burst" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


burst = _burst()
#: burst's login signs in with burst's password, so the fill gives everyone that one.
PASSWORD = burst.PASSWORD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(data_dir: Path, port: int) -> dict[str, str]:
    """What scripts/run.sh exports for the web server: production profile, plain http."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KC_", "DATABASE_URL", "PYTEST", "DJANGO_"))
    }
    env.update(
        KC_DATA_DIR=str(data_dir),
        KC_DEBUG="0",
        KC_HTTPS="0",
        KC_SECRET_KEY=secrets.token_urlsafe(50),
        KC_ALLOWED_HOSTS="127.0.0.1,localhost",
        KC_HOST="127.0.0.1",
        KC_PORT=str(port),
    )
    return env


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kernelcamp.settings"
    sys.path.insert(0, str(REPO / "platform"))
    import django

    django.setup()


class Server:
    """gunicorn with the run command's config file; `app` replaces its WSGI app for the naive
    phases only."""

    def __init__(self, env: dict[str, str], log: Path, app: str | None = None) -> None:
        self.command = [str(REPO / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        if app:
            self.command += ["--pythonpath", str(HERE), app]
        self.env, self.log = env, log
        self.base = f"http://127.0.0.1:{env['KC_PORT']}"
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.log.read_text()[-3000:]}")
            try:
                requests.get(f"{self.base}/accounts/login/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in 120 s")

    def restart(self) -> None:
        """Kill and start again: what an overloaded phase queued (requests the client has given
        up on, still served one by one) would otherwise take minutes off the next phase."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.start()

    def cpu_seconds(self) -> float:
        """CPU time of gunicorn and its workers so far (from /proc): what a request costs, which
        the other jobs on a shared machine do not inflate the way they inflate wall time."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def login(base: str, username: str) -> str:
    """The Cookie header of a signed-in session (bench/burst's login, the same password)."""
    session = burst.login(base, username)
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


class Lander(threading.Thread):
    """Lands a score every `every` seconds while a phase runs (as the scoring worker would)."""

    def __init__(self, challenge_id: int, every: float) -> None:
        super().__init__(daemon=True)
        self.challenge_id, self.every = challenge_id, every
        self.running = threading.Event()
        self.landed = 0
        self.rng = random.Random(7)

    def run(self) -> None:
        from django.db import close_old_connections
        from fill import land_score

        while True:
            self.running.wait()
            time.sleep(self.every)
            if self.running.is_set():
                land_score(self.challenge_id, self.rng)
                self.landed += 1
                close_old_connections()


class Bench:
    def __init__(self, args, server: Server, paths: list[str], headers: dict[str, str],
                 lander: Lander | None):  # fmt: skip
        self.args, self.server, self.paths = args, server, paths
        self.headers, self.lander = headers, lander

    def phase(self, rate: float, duration: float, label: str) -> Phase:
        if self.lander:
            self.lander.running.set()
        total = max(1, round(rate * duration))
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = self.server.cpu_seconds()
        with tqdm(
            total=total, desc=f"{label} {rate:.0f}/s", leave=False, unit="req", disable=None
        ) as bar:
            phase = run_phase(
                "127.0.0.1", self.args.port, self.paths, rate, duration, self.headers,
                tick=bar.update,
            )  # fmt: skip
        if self.lander:
            self.lander.running.clear()
        overloaded = bool(phase.errors())
        if not overloaded:
            self.settle()
        used = resource.getrusage(resource.RUSAGE_SELF)
        phase.client_cpu = (used.ru_utime + used.ru_stime) - (cpu.ru_utime + cpu.ru_stime)
        phase.server_cpu_ms = 1000 * (self.server.cpu_seconds() - server_cpu) / total
        if overloaded:
            self.server.restart()
        return phase

    def settle(self, limit: float = 60.0) -> None:
        """Wait until the server has worked off what an overloaded phase left in its queues
        (requests the client gave up on are still served), so the next phase starts fresh."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                requests.get(f"{self.server.base}/accounts/login/", timeout=limit)
            except requests.RequestException:
                pass
            if time.monotonic() - began < 0.5:
                return
            time.sleep(0.5)

    def search(self, label: str, start: float) -> tuple[float, list[Phase]]:
        """The highest rate whose p95 is under the SLO: step by 1.5x up (or 2x down) from
        `start` until the answer changes, then halve the gap `--refine` times (geometric means)."""
        slo, seconds = self.args.slo, self.args.search_duration
        tried: list[Phase] = []

        def good(rate: float) -> bool:
            phase = self.phase(rate, seconds, label)
            tried.append(phase)
            s = phase.summary()
            ok = s["p95_ms"] < slo and s["errors"] <= 0.01 * s["requests"]
            print(f"  {label:>12} {rate:7.0f}/s  p95 {s['p95_ms']:7.1f} ms  errors "
                  f"{s['errors']}  {'under' if ok else 'OVER'} {slo:.0f} ms  server CPU "
                  f"{phase.server_cpu_ms:.1f} ms/req  load {os.getloadavg()[0]:.1f}")  # fmt: skip
            return ok

        rate = start
        if good(rate):
            low, high = rate, None
            while high is None and rate * 1.5 <= self.args.max_rate:
                rate *= 1.5
                if good(rate):
                    low = rate
                else:
                    high = rate
        else:
            low, high = None, rate
            while low is None and rate / 2 >= self.args.min_rate:
                rate /= 2
                if good(rate):
                    low = rate
                else:
                    high = rate
        for _ in range(self.args.refine if low and high else 0):
            middle = (low * high) ** 0.5
            if good(middle):
                low = middle
            else:
                high = middle
        return (low or 0.0), tried


def main() -> int:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teams", type=int, default=80)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="the reported rate (req/s)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds at --rate")
    parser.add_argument("--search-duration", type=float, default=8.0, help="seconds per step")
    parser.add_argument("--slo", type=float, default=100.0, help="p95 bound of the search (ms)")
    parser.add_argument("--goal", type=float, default=50.0, help="p95 goal at --rate (ms)")
    parser.add_argument("--min-rate", type=float, default=5.0)
    parser.add_argument("--max-rate", type=float, default=3000.0)
    parser.add_argument("--refine", type=int, default=2, help="bisection steps of the search")
    parser.add_argument("--land-every", type=float, default=2.0, help="a score lands (s); 0: none")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--page-rate", type=float, default=10.0, help="per-page cost: req/s")
    parser.add_argument("--page-duration", type=float, default=4.0, help="per-page cost: s")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="4 teams, 200 entries, 2 s, no search")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the data here; a filled one is reused as it is"
    )
    parser.add_argument(
        "--database-url", help="an already migrated, empty database (the smoke test's)"
    )
    parser.add_argument(
        "--db-conn-max-age", help="KC_DB_CONN_MAX_AGE for the server (A/B: 0 connects per request)"
    )
    args = parser.parse_args()
    if args.tiny:
        args.teams, args.entries, args.duration, args.rate = 4, 200, 2.0, 20.0
        args.no_search, args.land_every = True, 0.5
        args.page_rate, args.page_duration, args.warm_up = 10.0, 0.5, 0.5

    args.port = free_port()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kc-leaderboard-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = site_env(data_dir, args.port)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.db_conn_max_age is not None:
        env["KC_DB_CONN_MAX_AGE"] = args.db_conn_max_age
    log = data_dir / "gunicorn.log"
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    print(f"data dir {data_dir}; site http://127.0.0.1:{args.port}; load {load_before[0]:.1f}")
    server = None
    try:
        began = time.monotonic()
        setup_django(env)
        from django.core.management import call_command
        from django.db import connection
        from fill import fill, filled_already

        if connection.vendor == "sqlite":
            # Only this process's connection, for the set-up: thousands of small transactions
            # need not each wait for the disk. The server's connections keep the defaults.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=OFF")
        if not args.database_url:
            call_command("migrate", "--no-input", verbosity=0)
        filled = filled_already()
        if filled is None:
            filled = fill(args.teams, args.entries, PASSWORD)
        print(f"filled: {filled.teams} teams, {filled.entries} entries "
              f"({time.monotonic() - began:.0f} s with migrations)")  # fmt: skip

        from contests.boards import board_rows
        from contests.models import Challenge
        from naive import naive_rows

        challenge = Challenge.objects.get(pk=filled.challenge_id)
        site_board = [
            (r.competitor, r.score, r.rank) for r in board_rows(challenge, "public", True)
        ]
        naive_board = [(r.competitor, r.score, r.rank) for r in naive_rows(challenge, "public")]
        agree = site_board == naive_board
        print(f"materialized and naive boards agree: {'yes' if agree else 'NO'} "
              f"({len(site_board)} rows)")  # fmt: skip
        connection.close()

        event = f"/events/{filled.event_slug}/"
        board = f"{event}challenges/{filled.challenge_slug}/board/"
        paths = [board, board.rstrip("/") + ".json", event]
        naive_paths = [f"{board}?naive=1", f"{board.rstrip('/')}.json?naive=1", event]
        lander = Lander(filled.challenge_id, args.land_every) if args.land_every else None
        if lander:
            lander.start()
        results: dict = {"teams": filled.teams, "entries": filled.entries, "agree": agree}

        runs = [("materialized", None, paths)]
        if not args.no_naive:
            runs.append(("naive", "naive_site:application", naive_paths))
        phases: dict[str, list[Phase]] = {}
        maxima: dict[str, float] = {}
        for label, app, chosen in runs:
            server = Server(env, log, app)
            cookie = login(server.base, filled.viewer)
            bench = Bench(args, server, chosen, {"Cookie": cookie}, lander)
            bench.phase(min(args.rate, 50.0), args.warm_up, f"{label} warm-up")
            results[label + "_cpu_ms_per_page"] = cost = {}
            for path in chosen:  # each page alone, lightly loaded: its own CPU cost
                single = Bench(args, server, [path], {"Cookie": cookie}, None)
                cost[path] = single.phase(args.page_rate, args.page_duration, "cost").server_cpu_ms
                print(f"  {label}: {path} costs {cost[path]:.1f} ms of server CPU")
            main_phase = bench.phase(args.rate, args.duration, label)
            results[label] = describe(label, main_phase, chosen)
            phases[label] = [main_phase]
            if not args.no_search:
                maxima[label], tried = bench.search(label, args.rate)
                phases[label] += tried
                results[label]["max_rate_under_slo"] = maxima[label]
                print(f"{label}: highest rate with p95 under {args.slo:.0f} ms: "
                      f"{maxima[label]:.0f} req/s")  # fmt: skip
            results[label]["curve"] = [
                {**p.summary(), "server_cpu_ms": p.server_cpu_ms} for p in phases[label]
            ]
            server.stop()
            server = None

        load_after = os.getloadavg()
        site, plain = results["materialized"]["all"], results.get("naive", {}).get("all")
        print(f"\nat {args.rate:.0f} req/s, p95: materialized {site['p95_ms']:.1f} ms "
              f"(goal < {args.goal:.0f} ms: {'met' if site['p95_ms'] < args.goal else 'NOT met'})"
              f", errors {site['errors']}")  # fmt: skip
        if plain:
            capped = site["p95_ms"] >= 1000 * TIMEOUT_S  # both saturated: no ratio to read
            ratio = (
                "n/a (p95 at the timeout)" if capped else f"{plain['p95_ms'] / site['p95_ms']:.1f}x"
            )
            print(f"at {args.rate:.0f} req/s, p95: naive {plain['p95_ms']:.1f} ms, errors "
                  f"{plain['errors']}; naive / materialized = {ratio}")  # fmt: skip
        cores = os.cpu_count() or 1
        for label in phases:
            # From the light per-page phases: an overloaded phase's CPU spills into the next one.
            costs = results[f"{label}_cpu_ms_per_page"]
            results[label]["mix_cpu_ms"] = mix = sum(costs.values()) / len(costs)
            print(f"server CPU per request of the mix, {label}: {mix:.1f} ms; {cores} free cores "
                  f"would serve at most about {1000 * cores / mix:.0f} req/s")  # fmt: skip
        if plain:
            site_cpu, naive_cpu = (
                results["materialized"]["mix_cpu_ms"],
                results["naive"]["mix_cpu_ms"],
            )
            print(f"naive / materialized server CPU per request: {naive_cpu / site_cpu:.1f}x")
            pages = zip(results["materialized_cpu_ms_per_page"].items(),
                        results["naive_cpu_ms_per_page"].values(), strict=True)  # fmt: skip
            for (path, site_ms), naive_ms in pages:
                print(f"    {path:<60} {site_ms:6.1f} ms, naive {naive_ms:6.1f} ms "
                      f"= {naive_ms / site_ms:.1f}x")  # fmt: skip
        if len(maxima) == 2 and maxima["naive"]:
            print(f"highest rate under {args.slo:.0f} ms p95: materialized "
                  f"{maxima['materialized']:.0f}, naive {maxima['naive']:.0f} req/s = "
                  f"{maxima['materialized'] / maxima['naive']:.1f}x")  # fmt: skip
        print(f"scores landed during the phases: {lander.landed if lander else 0}; load average "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")  # fmt: skip
        results.update(load_before=load_before, load_after=load_after, rate=args.rate)
        (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
        if "naive" in phases or len(phases.get("materialized", [])) > 1:
            plot(args.out / "latency-vs-rate.png", phases["materialized"],
                 phases.get("naive", []), args.slo, args.goal)  # fmt: skip
            print(f"plot: {args.out / 'latency-vs-rate.png'}")
        failed = not agree or site["errors"] or (plain and plain["errors"])
        return 1 if failed else 0
    finally:
        if server:
            server.stop()
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
