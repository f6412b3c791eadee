"""The site under gunicorn with the run command's own configuration (deploy/gunicorn.conf.py),
sharing the test database file, so that tests go through the web server people run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.compute.hubproc import REPO, free_port

# Another configuration only to check that the tests catch a starved site (e.g. sync workers).
GUNICORN_CONFIG = Path(
    os.environ.get("KC_TEST_GUNICORN_CONFIG") or REPO / "deploy" / "gunicorn.conf.py"
)


class WebSite:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "gunicorn.log"
        self.env = {**os.environ, **env, "KC_HOST": "127.0.0.1", "KC_PORT": str(self.port)}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)  # platform/manage.py's default applies
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(gunicorn), "-c", str(GUNICORN_CONFIG)],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/accounts/login/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not come up:\n{self.log_tail()}")

    def log_tail(self, limit: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-limit:] if self.log.exists() else ""

    def shutdown(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
