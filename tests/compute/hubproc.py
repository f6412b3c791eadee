"""A real JupyterHub (with its real proxy) started from deploy/jupyterhub/jupyterhub_config.py."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    def __init__(self, root: Path, site_url: str, profiles: dict) -> None:
        self.root = root
        self.data = root / "hub"
        self.data.mkdir(parents=True, exist_ok=True)
        self.profiles_file = self.data / "profiles.json"
        self.profiles_file.write_text(json.dumps(profiles))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(24)
        self.client_id = "kernelcamp-hub-test"
        self.client_secret = secrets.token_urlsafe(32)
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "KC_HUB_DATA_DIR": str(self.data),
            "KC_HUB_PORT": str(self.port),
            "KC_HUB_INTERNAL_PORT": str(free_port()),
            "KC_PROXY_API_PORT": str(free_port()),
            "KC_HUB_API_TOKEN": self.token,
            "KC_HUB_PROFILES": str(self.profiles_file),
            "KC_SITE_URL": site_url,
            "KC_HUB_OAUTH_CLIENT_ID": self.client_id,
            "KC_HUB_OAUTH_CLIENT_SECRET": self.client_secret,
            "KC_HUB_OAUTH_CREDENTIALS": str(self.data / "absent.json"),
            "KC_HUB_AUTH_REFRESH_AGE": "1",
            # Unix accounts of this run only (as root): parallel runs never share or delete them.
            "KC_SESSION_USER_PREFIX": f"jupyter-{secrets.token_hex(2)}-",
            # Team folders' Unix groups of this run only, removed with the accounts.
            "KC_SESSION_TEAM_GROUP_PREFIX": f"kc-{secrets.token_hex(2)}-team-",
        }
        self.env.pop("NUMBA_ENABLE_CUDASIM", None)  # only the simulator profile may set it
        self.process: subprocess.Popen | None = None
        self.log = self.data / "hub.log"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, f"{self.url}/hub/api{path}", headers=self.headers, timeout=30, **kwargs
        )

    def start(self, timeout: float = 180) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
                cwd=self.data,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited:\n{self.log.read_text()[-4000:]}")
            try:
                if self.api("GET", "/").status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the hub did not come up:\n{self.log.read_text()[-4000:]}")

    def stop_process(self) -> None:
        """Stop the hub (and its proxy); single-user servers keep running (cleanup_servers off)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def restart(self) -> None:
        self.stop_process()
        self.start()

    def server_pids(self) -> dict[str, int]:
        """Single-user servers of this hub, found by the hub API URL in their environment."""
        marker = f"JUPYTERHUB_API_URL=http://127.0.0.1:{self.env['KC_HUB_INTERNAL_PORT']}/"
        pids = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if not any(item.startswith(marker) for item in environ):
                continue
            for item in environ:
                if item.startswith("JUPYTERHUB_USER="):
                    pids[item.split("=", 1)[1]] = int(entry.name)
        return pids

    def stop_all_servers(self, wait: float = 30) -> None:
        for user in self.api("GET", "/users", params={"state": "active"}).json():
            self.api("DELETE", f"/users/{user['name']}/server")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self.api("GET", "/users", params={"state": "active"}).json():
                return
            time.sleep(0.3)

    def shutdown(self) -> None:
        pids = {}
        try:
            pids = self.server_pids()
            self.stop_all_servers()
        except requests.RequestException:
            pass
        self.stop_process()
        for pid in pids.values():  # servers we started and the hub did not stop
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.remove_unix_accounts()

    def remove_unix_accounts(self) -> None:
        """userdel -r the accounts the hub's spawner made for this run (reruns start clean)."""
        if os.geteuid() != 0:
            return
        prefix = self.env["KC_SESSION_USER_PREFIX"]
        for entry in pwd.getpwall():
            if entry.pw_name.startswith(prefix):
                subprocess.run(["userdel", "--remove", "--force", entry.pw_name], check=False)
        import grp

        team_prefix = self.env["KC_SESSION_TEAM_GROUP_PREFIX"]
        for group in grp.getgrall():
            if group.gr_name.startswith(team_prefix):
                subprocess.run(["groupdel", group.gr_name], check=False)
