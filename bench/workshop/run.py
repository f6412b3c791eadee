"""Workshop benchmark (issue 8, item 7): N students at once on the run command's stack.

    .venv/bin/python bench/workshop/run.py [-n 30] [--no-grade] [--timeout 900] [--set K=V]

Starts `scripts/run.sh` on free ports with its own data directory and adds N students to the
demo cohort. First N servers are started at once directly through the hub's REST API with the
site's service token (the same profile, a 429 asked again after its Retry-After): the reference
launch time. Then all N students at the same moment log in, launch a session (following the
page's progress stream), open JupyterLab, run a cell in a kernel over the Jupyter API
(websocket), submit from the session, wait for the grade (unless --no-grade) and stop. Prints
p50 and p95 per step, every error, and the ratio of the launch p95s, site / hub API (goal: at
most 1.2).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import PASSWORD, REPO, RunCommandStack  # noqa: E402
from student import Outcome, Student, spawn_began  # noqa: E402

STEPS = ["login", "launch", "open_lab", "run_cell", "submit", "graded", "stop"]
# Reported too, not a step of its own: the Launch request's answer time (inside "launch").
FIGURES = ["login", "launch_request", "launch", "launch_queue", "launch_start", *STEPS[2:]]
PROFILE = "cpu-simulator"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 30 values is the 29th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def students_phase(stack: RunCommandStack, names: list[str], args) -> list[Outcome]:
    barrier = threading.Barrier(len(names))
    steps_per_student = len(STEPS) - (1 if args.no_grade else 0)
    bar = tqdm(total=len(names) * steps_per_student, desc="students", unit="step")
    lock = threading.Lock()

    def tick() -> None:
        with lock:
            bar.update(1)

    def one(name: str) -> Outcome:
        student = Student(
            stack.site,
            stack.hub,
            name,
            PASSWORD,
            wait_graded=not args.no_grade,
            hub_token=stack.hub_token,
        )
        barrier.wait()  # all at once, as a class at 9:00
        return student.run(tick, args.timeout)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        outcomes = list(pool.map(one, names))
    bar.close()
    return outcomes


def direct_phase(
    stack: RunCommandStack, count: int, timeout: float, prefix: str = "direct"
) -> list[Outcome]:
    """N servers started straight through the hub API, all at once; launch = POST to ready."""
    api = f"{stack.hub}/hub/api"
    headers = {"Authorization": f"token {stack.hub_token}"}
    names = [f"{prefix}{i:03d}" for i in range(1, count + 1)]
    requests.post(f"{api}/users", json={"usernames": names}, headers=headers, timeout=60)
    barrier = threading.Barrier(count)
    bar = tqdm(total=count, desc=f"{prefix}: hub API", unit="server")

    def one(name: str) -> Outcome:
        outcome = Outcome(name)
        http = requests.Session()
        http.headers.update(headers)
        barrier.wait()
        started, started_at = time.perf_counter(), time.time()
        deadline = time.monotonic() + timeout
        try:
            while True:  # past its concurrent-spawn limit the hub answers 429: ask again when
                # its Retry-After says (at most 5 s, as the site; the hub's default is 30-60 s)
                answer = http.post(
                    f"{api}/users/{name}/server", json={"profile": PROFILE}, timeout=120
                )
                if answer.status_code in (201, 202):
                    break
                if answer.status_code != 429 or time.monotonic() > deadline:
                    raise RuntimeError(f"start answered {answer.status_code}: {answer.text[:200]}")
                time.sleep(min(float(answer.headers.get("Retry-After", 1)), 5.0))
            while True:
                server = http.get(f"{api}/users/{name}", timeout=60).json()["servers"].get("", {})
                if server.get("ready"):
                    break
                if not server or time.monotonic() > deadline:
                    raise RuntimeError("the server went away or never became ready")
                time.sleep(0.1)
            outcome.seconds["launch"] = time.perf_counter() - started
            began = spawn_began(stack.hub, stack.hub_token, name)
            outcome.seconds["launch_queue"] = began - started_at
            outcome.seconds["launch_start"] = time.time() - began
        except Exception as exc:
            outcome.failed_step, outcome.error = "launch", f"{type(exc).__name__}: {exc}"[:500]
        bar.update(1)
        return outcome

    with ThreadPoolExecutor(max_workers=count) as pool:
        outcomes = list(pool.map(one, names))
    bar.close()
    for name in names:
        requests.delete(f"{api}/users/{name}/server", headers=headers, timeout=60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        active = requests.get(
            f"{api}/users", params={"state": "active"}, headers=headers, timeout=60
        ).json()
        if not [u for u in active if u["name"].startswith(prefix)]:
            break
        time.sleep(0.5)
    return outcomes


def report(
    outcomes: list[Outcome], direct: list[Outcome], wall: float, direct_wall: float
) -> float:
    print()
    print(f"{'step':<15} {'n ok':>5} {'p50 s':>8} {'p95 s':>8} {'max s':>8}")
    rows = [(step, [o.seconds[step] for o in outcomes if step in o.seconds]) for step in FIGURES]
    for step in ("launch", "launch_queue", "launch_start"):
        rows.append((f"{step}*", [o.seconds[step] for o in direct if step in o.seconds]))
    for step, values in rows:
        if not values:
            continue
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"{step:<15} {len(values):>5} {p50:>8.2f} {p95:>8.2f} {max(values):>8.2f}")
    print("(launch*: the same number of servers started directly through the hub API;")
    print(" _queue: until the hub began the spawn, its `started`; _start: from then to ready)")
    errors = [o for o in outcomes + direct if o.error]
    print(
        f"\nstudents: {len(outcomes)}, all steps done: {sum(not o.error for o in outcomes)}, "
        f"wall {wall:.1f} s; direct phase wall {direct_wall:.1f} s"
    )
    print(f"errors: {len(errors)}")
    for outcome in errors:
        print(f"  {outcome.name} at {outcome.failed_step}: {outcome.error}")
    site = [o.seconds["launch"] for o in outcomes if "launch" in o.seconds]
    hub = [o.seconds["launch"] for o in direct if "launch" in o.seconds]
    if not site or not hub:
        return float("nan")
    ratio = percentile(site, 0.95) / percentile(hub, 0.95)
    print(f"launch p95 ratio, site / direct hub API: {ratio:.2f} (goal <= 1.2)")
    starts = [
        [o.seconds["launch_start"] for o in g if "launch_start" in o.seconds]
        for g in (outcomes, direct)
    ]
    if all(starts):  # the part after the hub's queue: spawn, readiness, the site's follow-up
        start_ratio = percentile(starts[0], 0.95) / percentile(starts[1], 0.95)
        print(f"launch_start p95 ratio, site / direct hub API: {start_ratio:.2f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-n", "--students", type=int, default=30)
    parser.add_argument("--no-grade", action="store_true", help="do not wait for the grades")
    parser.add_argument("--timeout", type=float, default=900, help="per student, all steps")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for run.sh, e.g. --set KC_HUB_CONCURRENT_SPAWN_LIMIT=8",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kc-workshop-"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"commit {commit}{' (with uncommitted changes)' if dirty else ''}; data in {root}")
    stack = RunCommandStack(root, dict(item.split("=", 1) for item in args.set))
    if args.set:
        print(f"run.sh environment: {' '.join(args.set)}")
    started = time.perf_counter()
    try:
        stack.start()
        print(
            f"run.sh up in {time.perf_counter() - started:.0f} s: site {stack.site}, hub {stack.hub}"
        )
        names = stack.make_students("bench", args.students)
        # One server started and stopped first, so neither phase pays for cold caches alone;
        # then the hub API alone, then the students (their grading would load the hub's phase).
        direct_phase(stack, 1, args.timeout, prefix="warmup")
        load = Path("/proc/loadavg").read_text().split()[0]
        direct_wall = time.perf_counter()
        direct = direct_phase(stack, args.students, args.timeout)
        direct_wall = time.perf_counter() - direct_wall
        wall = time.perf_counter()
        outcomes = students_phase(stack, names, args)
        wall = time.perf_counter() - wall
        print(
            f"load average (1 min) before the hub API phase: {load}, after the students: "
            f"{Path('/proc/loadavg').read_text().split()[0]}"
        )
        ratio = report(outcomes, direct, wall, direct_wall)
        failed = any(o.error for o in outcomes + direct)
        return 1 if failed or not ratio <= 1.2 else 0
    except Exception:
        print(f"--- run.sh log ---\n{stack.tail()}", file=sys.stderr)
        raise
    finally:
        stack.stop()
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    sys.exit(main())
