"""A grading worker killed with SIGKILL mid-grade: the job runs again, one grade results."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading import services
from grading.models import Grade, Submission
from tests.site.grading_helpers import database_url, student_notebook

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start_worker(log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "KC_GRADING_LEASE_SECONDS": "4",
        "KC_GRADING_SWEEP_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "grading_worker", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the kill takes all of it
    )


def wait_for(predicate, what: str, limit: float = 180.0) -> None:
    # A bound so a broken worker fails the test instead of hanging CI; not a speed assertion.
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def status_of(submission_id: int) -> str:
    return Submission.objects.values_list("status", flat=True).get(pk=submission_id)


def test_killed_worker_job_runs_again_and_grades_once(published, people, tmp_path):
    log = tmp_path / "worker.log"
    # Slow enough that the kill lands while the notebook runs.
    data = student_notebook(prelude="import time\ntime.sleep(8)\n")
    submission = services.submit(published["cohort"], people["student"], "add", data)
    first = start_worker(log)
    try:
        wait_for(lambda: status_of(submission.pk) == "running", "the first worker to start grading")
        time.sleep(1.0)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert not Grade.objects.filter(submission_id=submission.pk).exists()
    assert status_of(submission.pk) == "running", "the dead worker's lease is still held"

    second = start_worker(log)
    try:
        wait_for(lambda: status_of(submission.pk) == "graded", "the job to run again")
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
    submission.refresh_from_db()
    assert submission.attempts == 2, log.read_text()[-3000:]
    assert Grade.objects.filter(submission=submission).count() == 1
    assert submission.grade.score == 3
