"""A deadline burst through the site's own submit path (issue 9, point 9).

Starts what `scripts/run.sh` starts for grading, on free ports with a data directory of its own:
the web site (the same gunicorn command) and K grading workers (`manage.py grading_worker`, each
in its own session as run.sh does), with the demo data (`load_demo`) plus enough students.
Then N notebooks of the demo course are handed in within a window (default 500 in 60 s) as HTTP
POSTs of logged-in students to the upload form, a grading worker is SIGKILLed midway (with its
sandbox and kernels), and the run waits until every accepted submission has a grade.

Prints: accepted, lost (accepted but never graded, or a POST the site failed), graded more than
once (grading tasks that finished "graded" twice for one submission), recovered after the kill,
the p50 and p95 time from submit (POST sent) to feedback (the grade written), and whether the
scores match the kind of notebook. `scripts/run.sh` itself is not used because its supervisor
stops everything when one service dies, which is what this bench does to a worker on purpose.

    .venv/bin/python bench/burst/run.py                   # 500 in 60 s, 2 x cores + 1 workers
    .venv/bin/python bench/burst/run.py -n 100 --window 20
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python")
SLUG = "threads-and-maps"
PASSWORD = "burst-password-1234"
#: The site refuses more than KC_SUBMISSIONS_PER_MINUTE (default 5) per student and assignment.
PER_STUDENT = 4

SETUP = """
from django.contrib.auth.hashers import make_password
from accounts.models import User
from learning.models import Cohort, Enrolment
cohort = Cohort.objects.get(name="Demo cohort")
Cohort.objects.filter(pk=cohort.pk).update(seat_limit=None)
hashed = make_password({password!r})
users = User.objects.bulk_create(
    [User(username=f"burst{{i:04d}}", email=f"burst{{i:04d}}@bench.local", password=hashed)
     for i in range({students})]
)
users = User.objects.filter(username__startswith="burst").order_by("username")
Enrolment.objects.bulk_create(
    [Enrolment(cohort=cohort, user=u, role="student", source="manual") for u in users]
)
print(cohort.pk)
"""


@dataclass
class Post:
    index: int
    kind: str
    sent_at: float = 0.0
    status: int = 0
    submission_id: int | None = None
    error: str = ""


@dataclass
class Run:
    posts: list[Post] = field(default_factory=list)
    killed_at: float | None = None
    killed_pid: int | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(data_dir: Path, port: int) -> dict[str, str]:
    """The environment run.sh gives its services, on our own port and data directory."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KC_", "DATABASE_URL", "PYTEST", "DJANGO_"))
    }
    env.update(KC_DATA_DIR=str(data_dir), KC_DEBUG="1", KC_PORT=str(port))
    return env


def corpus(n: int) -> list[tuple[str, bytes]]:
    """N small notebooks of the demo course's CUDA assignment: correct, partial, wrong and blank
    (bench/grading's corpus without the endless loops, which only measure the cell timeout)."""
    sys.path.insert(0, str(REPO / "bench" / "grading"))
    from corpus import build_corpus

    _source, items = build_corpus(max(n, 40))
    pool = [(c["kind"], c["data"]) for c in items if c["kind"] != "looping"]
    return [pool[i % len(pool)] for i in range(n)]


def login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=60)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {username} failed: HTTP {response.status_code}")
    return session


def submit(base: str, session: requests.Session, cohort: int, post: Post, data: bytes) -> None:
    post.sent_at = time.time()
    try:
        response = session.post(
            f"{base}/cohorts/{cohort}/assignments/{SLUG}/submit",
            files={"notebook": ("01-threads-and-maps.ipynb", data, "application/json")},
            headers={"X-CSRFToken": session.cookies["csrftoken"]},
            allow_redirects=False,
            timeout=120,
        )
    except requests.RequestException as exc:
        post.error = f"{type(exc).__name__}: {exc}"
        return
    post.status = response.status_code
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/submissions/" in location:
        post.submission_id = int(location.rstrip("/").rsplit("/", 1)[-1])
    else:
        post.error = f"HTTP {response.status_code} -> {location or response.text[:200]}"


def wait_http(url: str, limit: float, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a service exited during start-up (see the log in the data dir)")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {limit:.0f} s")


def django_orm(env: dict[str, str]):
    """The ORM in this process, on the bench's database, to watch grading."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kernelcamp.settings"
    sys.path.insert(0, str(REPO / "platform"))
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult

    from grading.models import Submission

    return Submission, DBTaskResult


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main() -> int:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--submissions", type=int, default=500)
    parser.add_argument("--window", type=float, default=60.0, help="seconds to hand them in")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction handed in, then kill")
    parser.add_argument("--timeout", type=float, default=3600, help="give up waiting after")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()

    n = args.submissions
    students = math.ceil(n / PER_STUDENT)
    data_dir = Path(tempfile.mkdtemp(prefix="kc-burst-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(data_dir, port)
    log = (data_dir / "services.log").open("ab")
    print(f"data dir {data_dir}; site {base}; {args.workers} grading workers; {students} students")

    def manage(*command: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {command[0]} failed: {done.stderr[-2000:]}")
        return done.stdout

    services: list[subprocess.Popen] = []
    run = Run()
    try:
        manage("migrate", "--no-input", "-v", "0")
        manage("load_demo")
        setup = manage("shell", "-c", SETUP.format(password=PASSWORD, students=students))
        cohort = int(setup.strip().splitlines()[-1])
        notebooks = corpus(n)

        web = subprocess.Popen(
            [
                str(REPO / ".venv" / "bin" / "gunicorn"),
                "--chdir",
                "platform",
                "kernelcamp.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "120",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        services.append(web)
        workers = [
            subprocess.Popen(
                [PYTHON, "manage.py", "grading_worker"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for _ in range(args.workers)
        ]
        services += workers
        wait_http(f"{base}/accounts/login/", 120, services)

        with ThreadPoolExecutor(8) as pool:
            sessions = list(
                tqdm(
                    pool.map(lambda i: login(base, f"burst{i:04d}"), range(students)),
                    total=students,
                    desc="logging in",
                    unit="student",
                )
            )
        Submission, DBTaskResult = django_orm(env)

        run.posts = [Post(i, kind) for i, (kind, _data) in enumerate(notebooks)]
        start = time.time()
        kill_after = max(1, int(n * args.kill_at))
        handed_in = threading.Semaphore(0)

        def hand_in(post: Post) -> None:
            delay = start + post.index * args.window / n - time.time()
            if delay > 0:
                time.sleep(delay)
            submit(base, sessions[post.index % students], cohort, post, notebooks[post.index][1])
            handed_in.release()

        def killer() -> None:
            for _ in range(kill_after):
                handed_in.acquire()
            victim = workers[0]
            os.killpg(victim.pid, signal.SIGKILL)  # the worker, its fork server and kernels
            run.killed_at, run.killed_pid = time.time(), victim.pid

        threading.Thread(target=killer, daemon=True).start()
        poster = ThreadPoolExecutor(32)
        for post in run.posts:
            poster.submit(hand_in, post)

        bar = tqdm(total=n, desc="graded", unit="nb")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            time.sleep(1)
            sent = sum(1 for p in run.posts if p.status or p.error)
            accepted = [p.submission_id for p in run.posts if p.submission_id]
            statuses = dict.fromkeys(["queued", "running", "graded", "failed"], 0)
            for status in Submission.objects.filter(pk__in=accepted).values_list(
                "status", flat=True
            ):
                statuses[status] += 1
            done = statuses["graded"] + statuses["failed"]
            bar.n = done
            bar.set_postfix(
                sent=sent,
                queued=statuses["queued"],
                running=statuses["running"],
                killed="yes" if run.killed_at else "no",
            )
            bar.refresh()
            if sent == n and done == len(accepted):
                break
        bar.close()
        poster.shutdown(wait=True)
        return report(run, start, args, Submission, DBTaskResult)
    finally:
        for proc in services:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in services:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def report(run: Run, start: float, args, Submission, DBTaskResult) -> int:
    posts = run.posts
    accepted = {p.submission_id: p for p in posts if p.submission_id}
    failed_posts = [p for p in posts if not p.submission_id]
    rows = {
        s.pk: s for s in Submission.objects.filter(pk__in=list(accepted)).select_related("grade")
    }
    graded = {sid: s for sid, s in rows.items() if s.status == "graded" and hasattr(s, "grade")}
    grading_failed = [sid for sid, s in rows.items() if s.status == "failed"]
    never = [sid for sid in accepted if sid not in graded and sid not in grading_failed]
    finished_graded: dict[int, int] = {}
    for task in DBTaskResult.objects.filter(status="SUCCESSFUL"):
        sid = task.args_kwargs["args"][0]
        if sid in accepted and task.return_value == "graded":
            finished_graded[sid] = finished_graded.get(sid, 0) + 1
    twice = sorted(sid for sid, count in finished_graded.items() if count > 1)
    recovered = sorted(sid for sid, s in rows.items() if s.attempts > 1)
    latencies = [s.grade.graded_at.timestamp() - accepted[sid].sent_at for sid, s in graded.items()]
    last_post = max((p.sent_at for p in posts if p.sent_at), default=start)
    expected = {"correct": 10.0, "blank": 0.0}
    wrong_scores = [
        (sid, accepted[sid].kind, s.grade.raw_score)
        for sid, s in graded.items()
        if accepted[sid].kind in expected and s.grade.raw_score != expected[accepted[sid].kind]
    ]
    figures = {
        "submissions": len(posts),
        "window_s": round(last_post - start, 1),
        "workers": args.workers,
        "accepted": len(accepted),
        "posts_failed": len(failed_posts),
        "lost": len(never) + len(failed_posts),
        "graded": len(graded),
        "grading_failed": len(grading_failed),
        "graded_more_than_once": len(twice),
        "recovered_after_kill": len(recovered),
        "worker_killed_at_s": round(run.killed_at - start, 1) if run.killed_at else None,
        "p50_submit_to_feedback_s": round(statistics.median(latencies), 1) if latencies else None,
        "p95_submit_to_feedback_s": round(percentile(latencies, 0.95), 1) if latencies else None,
        "max_submit_to_feedback_s": round(max(latencies), 1) if latencies else None,
        "all_graded_after_s": round(
            max(s.grade.graded_at.timestamp() for s in graded.values()) - start, 1
        )
        if graded
        else None,
        "unexpected_scores": len(wrong_scores),
    }
    print()
    print(
        f"handed in      {figures['submissions']} in {figures['window_s']} s "
        f"({figures['accepted']} accepted, {figures['posts_failed']} POSTs failed)"
    )
    print(f"worker killed  at {figures['worker_killed_at_s']} s (SIGKILL to its process group)")
    print(f"lost           {figures['lost']}  (goal 0)")
    print(f"graded twice   {figures['graded_more_than_once']}  (goal 0)")
    print(f"recovered      {figures['recovered_after_kill']} graded again after the kill")
    print(f"grading failed {figures['grading_failed']}")
    print(
        f"submit -> feedback: p50 {figures['p50_submit_to_feedback_s']} s, "
        f"p95 {figures['p95_submit_to_feedback_s']} s, max {figures['max_submit_to_feedback_s']} s;"
        f" all graded {figures['all_graded_after_s']} s after the first POST"
    )
    print(
        f"scores         {figures['unexpected_scores']} correct/blank notebooks scored "
        "other than 10/0"
    )
    for post in failed_posts[:5]:
        print(f"  POST {post.index} failed: {post.error}")
    for sid, kind, score in wrong_scores[:5]:
        print(f"  submission {sid} ({kind}) scored {score}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0 if figures["lost"] == 0 and not twice else 1


if __name__ == "__main__":
    sys.exit(main())
