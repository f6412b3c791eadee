"""The README's run command (`scripts/run.sh`) on free ports with a data directory of its own, as
tests/browser/test_run_command.py starts it, plus the bench's students in its database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
PASSWORD = "bench-workshop-pw-123"

# Runs in the stack's own database (manage.py shell): N students in the demo cohort, which
# `seed_compute --demo` granted the simulator profile and GPU-hours per student.
MAKE_STUDENTS = """
import os
from accounts.models import OrganizationMembership, User
from learning.models import Cohort, Enrolment
from learning.services.enrolment import enrol

prefix, count = os.environ["BENCH_PREFIX"], int(os.environ["BENCH_COUNT"])
password = os.environ["BENCH_PASSWORD"]
cohort = Cohort.objects.get(name="Demo cohort")
org = cohort.course.organization
for i in range(1, count + 1):
    user, created = User.objects.get_or_create(username=f"{prefix}{i:03d}")
    user.set_password(password)
    user.save()
    OrganizationMembership.objects.get_or_create(organization=org, user=user)
    if not Enrolment.objects.filter(cohort=cohort, user=user).exists():
        enrol(cohort, user, source=Enrolment.Source.MANUAL)
print("students ready", count)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunCommandStack:
    def __init__(self, root: Path, extra_env: dict[str, str] | None = None) -> None:
        self.root = root
        self.data_dir = root / "var"
        self.site_port, self.hub_port = free_port(), free_port()
        self.site = f"http://127.0.0.1:{self.site_port}"
        self.hub = f"http://127.0.0.1:{self.hub_port}"
        self.log = root / "run.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KC_", "DATABASE_URL", "PYTEST", "DJANGO_"))
        }
        self.env.update(
            KC_DATA_DIR=str(self.data_dir),
            KC_PORT=str(self.site_port),
            KC_HUB_PORT=str(self.hub_port),
            KC_HUB_INTERNAL_PORT=str(free_port()),
            KC_PROXY_API_PORT=str(free_port()),
            **(extra_env or {}),
        )
        self.process: subprocess.Popen | None = None

    @property
    def hub_token(self) -> str:
        """The site's service token for the hub, as run.sh wrote it."""
        return (self.data_dir / "hub" / "site-api-token").read_text().strip()

    def start(self, timeout: float = 900) -> None:
        self.process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=REPO,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"run.sh exited:\n{self.tail()}")
            if "KernelCamp is running" in self.log.read_text(errors="replace") and self._up():
                return
            time.sleep(1)
        raise RuntimeError(f"run.sh did not come up:\n{self.tail()}")

    def _up(self) -> bool:
        try:
            site = requests.get(f"{self.site}/accounts/login/", timeout=5).status_code == 200
            return site and requests.get(f"{self.hub}/hub/api/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def make_students(self, prefix: str, count: int) -> list[str]:
        env = {**self.env, "BENCH_PREFIX": prefix, "BENCH_COUNT": str(count)}
        env["BENCH_PASSWORD"] = PASSWORD
        for _attempt in range(3):  # the stack's services write to the same SQLite file
            done = subprocess.run(
                [str(PYTHON), "manage.py", "shell", "-c", MAKE_STUDENTS],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode == 0:
                break
            time.sleep(2)
        else:
            raise RuntimeError(f"could not add the students:\n{done.stderr[-3000:]}")
        names = [f"{prefix}{i:03d}" for i in range(1, count + 1)]
        for name in names:
            # The Unix accounts (and their homes) outlive a run's data directory; a home keeps
            # the notebooks an earlier run delivered, which the site would then submit instead
            # of this run's release (refused when the course changed). Each run starts clean.
            shutil.rmtree(Path("/home") / f"jupyter-{name}", ignore_errors=True)
        return names

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self) -> None:
        """Ctrl-C, as a person stops run.sh (it stops the sessions, then the services)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=150)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                print("run.sh did not stop within 150 s: killed", file=sys.stderr)
