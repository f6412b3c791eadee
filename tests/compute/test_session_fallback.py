"""A hub that is not root (a developer's laptop) still starts servers: as its own user, saying
in its log that there is no isolation."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.compute.hubproc import CONFIG, REPO, free_port

sys.path.insert(0, str(REPO / "deploy" / "jupyterhub"))
from kc_spawner import accounts  # noqa: E402
from kc_spawner.spawner import JAIL  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make an unprivileged user")


def _processes_of(uid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                found[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except OSError:
            continue
    return found


@pytest.fixture
def unprivileged_hub():
    """The hub from the usual config, run as a fresh unprivileged user in its home."""
    account = asyncio.run(
        accounts.ensure_account(f"kcdev-{secrets.token_hex(3)}", Path("/home"), "KernelCamp test")
    )
    home = account.home
    profiles = home / "profiles.json"
    profiles.write_text(json.dumps({"profiles": {"p": {"environment": {}, "args": []}}}))
    os.chown(profiles, account.uid, account.gid)
    token, port = secrets.token_hex(24), free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "KC_HUB_DATA_DIR": str(home / "hub"),
        "KC_HUB_PORT": str(port),
        "KC_HUB_INTERNAL_PORT": str(free_port()),
        "KC_PROXY_API_PORT": str(free_port()),
        "KC_HUB_API_TOKEN": token,
        "KC_HUB_PROFILES": str(profiles),
        "KC_HUB_IDLE_CULLER": "0",
        "KC_HUB_OAUTH_CREDENTIALS": str(home / "absent.json"),
    }
    # The launcher only lowers the hub to the user (Python may live under /root, e.g. pyenv).
    spec = {
        "uid": account.uid,
        "gid": account.gid,
        "home": str(home),
        "cgroup_procs": [],
        "hide": ["/root"],
        "private": [],
        "keep": [str(Path(sys.base_prefix).resolve())],
        "keep_writable": [str(home)],
    }
    log = home / "hub.log"
    with open(log, "w") as out:
        hub = subprocess.Popen(
            [sys.executable, "-I", str(JAIL), json.dumps(spec), "--"]
            + [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/hub/api"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert hub.poll() is None, log.read_text()[-3000:]
            try:
                if requests.get(f"{api}/", headers=headers, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
        yield api, headers, account, log
    finally:
        hub.terminate()
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(hub.pid, signal.SIGKILL)
        for pid in _processes_of(account.uid):  # the server outlives its hub (cleanup_servers)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["userdel", "--remove", "--force", account.name], capture_output=True)


def test_without_root_servers_run_as_the_hubs_user_with_a_warning(unprivileged_hub):
    api, headers, account, log = unprivileged_hub
    requests.post(f"{api}/users/ann", headers=headers, timeout=30)
    started = requests.post(
        f"{api}/users/ann/server", headers=headers, json={"profile": "p"}, timeout=60
    )
    assert started.status_code in (201, 202), started.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        user = requests.get(f"{api}/users/ann", headers=headers, timeout=30).json()
        if user["servers"].get("", {}).get("ready"):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(log.read_text()[-3000:])
    servers = [c for c in _processes_of(account.uid).values() if "jupyterhub-singleuser" in c]
    assert servers, _processes_of(account.uid)
    assert "The hub is not running as root" in log.read_text()
    assert not accounts.lookup(accounts.unix_name("ann"))  # no account made
    requests.delete(f"{api}/users/ann/server", headers=headers, timeout=60)
