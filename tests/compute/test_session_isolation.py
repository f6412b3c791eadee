"""No root, no reach: a student's server, opened through the real hub and proxy over Jupyter's
REST and websocket APIs, runs as the student's own unprivileged account and cannot read the
platform's files, another student's home or the site's secrets, and its memory limit holds."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

from tests.compute.hubproc import REPO

sys.path.insert(0, str(REPO / "deploy" / "jupyterhub"))
from kc_spawner import accounts, cgroups  # noqa: E402

MEM_LIMIT = 384 * 2**20
ALICE, BOB = "iso-alice", "iso-bob"


def test_unix_names_are_deterministic_safe_and_distinct():
    assert accounts.unix_name("stud") == "jupyter-stud"
    assert accounts.unix_name("Stud") != accounts.unix_name("stud")
    assert accounts.unix_name("a.b") != accounts.unix_name("a-b")
    long = "x" * 60
    assert len(accounts.unix_name(long)) <= accounts.MAX_UNIX_NAME
    assert accounts.unix_name(long) != accounts.unix_name(long + "y")
    assert accounts.unix_name("김철수") == accounts.unix_name("김철수")
    for name in ("a.b", "Stud", "김철수", "x@y.org", long):
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", accounts.unix_name(name))


def _wait_ready(hub, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = hub.api("GET", f"/users/{name}").json()["servers"].get("", {})
        if server.get("ready"):
            return
        time.sleep(0.3)
    raise AssertionError(f"{name}'s server never became ready:\n{hub.log.read_text()[-3000:]}")


@pytest.fixture
def alice_server(hub):
    if os.geteuid() != 0:
        pytest.skip("separate Unix accounts need a hub running as root")
    profiles = json.loads(hub.profiles_file.read_text())  # the hub re-reads it on every spawn
    profiles["profiles"]["isolated"] = {
        **profiles["profiles"]["cpu-simulator"],
        "mem_limit": MEM_LIMIT,
        "cpu_limit": 0.5,
    }
    hub.profiles_file.write_text(json.dumps(profiles))
    hub.api("POST", f"/users/{ALICE}")
    started = hub.api("POST", f"/users/{ALICE}/server", json={"profile": "isolated"})
    assert started.status_code in (201, 202), started.text
    _wait_ready(hub, ALICE)
    yield f"{hub.url}/user/{ALICE}"
    hub.api("DELETE", f"/users/{ALICE}/server")


def _execute(hub, server: str, kernel_id: str, code: str, timeout: float = 60) -> dict:
    """Run code in the kernel over the channels websocket: stdout, error name, kernel states."""
    ws = websocket.create_connection(
        f"{server.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels",
        header=[f"Authorization: token {hub.token}"],
        timeout=timeout,
    )
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "allow_stdin": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    result = {"stdout": "", "error": None, "states": []}
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            message = json.loads(ws.recv())
            kind = message["header"]["msg_type"]
            if kind == "status":
                state = message["content"]["execution_state"]
                result["states"].append(state)
                if state in ("restarting", "dead"):
                    return result
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "stream":
                result["stdout"] += message["content"]["text"]
            elif kind == "error":
                result["error"] = message["content"]["ename"]
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return result
    except websocket.WebSocketTimeoutException:
        pass
    finally:
        ws.close()
    return result


def _terminal(hub, server: str, commands: str, timeout: float = 60) -> str:
    """Type commands into a new terminal over its websocket; what it printed."""
    created = requests.post(f"{server}/api/terminals", headers=hub.headers, timeout=30)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    ws = websocket.create_connection(
        f"{server.replace('http', 'ws', 1)}/terminals/websocket/{name}",
        header=[f"Authorization: token {hub.token}"],
        timeout=timeout,
    )
    output = ""
    try:
        # The end marker is computed by the shell, so the echoed command line never matches it.
        ws.send(json.dumps(["stdin", f"{commands}\r echo END-$((40+2))\r"]))
        deadline = time.monotonic() + timeout
        while "END-42" not in output and time.monotonic() < deadline:
            kind, *payload = json.loads(ws.recv())
            if kind == "stdout":
                output += payload[0]
    finally:
        ws.close()
        requests.delete(f"{server}/api/terminals/{name}", headers=hub.headers, timeout=30)
    assert "END-42" in output, output
    return output


def test_student_server_is_unprivileged_and_sees_nothing_of_the_platform(hub, alice_server):
    from django.conf import settings

    prefix = hub.env["KC_SESSION_USER_PREFIX"]
    alice = accounts.lookup(accounts.unix_name(ALICE, prefix))
    assert alice is not None and alice.uid != 0 and alice.name == f"{prefix}{ALICE}"
    assert alice.home.stat().st_mode & 0o777 == 0o700
    assert not str(alice.home).startswith(str(hub.data))

    # Another student's home, with a file only a mistake in modes would protect.
    bob = asyncio.run(accounts.ensure_account(accounts.unix_name(BOB, prefix), Path("/home")))
    bob_secret = secrets.token_hex(16)
    (bob.home / "notes.txt").write_text(bob_secret)
    os.chmod(bob.home / "notes.txt", 0o644)
    # A setuid-root program where the student can run it: it must give nothing back.
    shutil.copy("/usr/bin/id", alice.home / "suid-id")
    os.chmod(alice.home / "suid-id", 0o4755)

    platform_files = [
        hub.data / "jupyterhub.sqlite",
        hub.data / "cookie_secret",
        hub.data / "proxy_token",
        Path(settings.DATA_DIR) / "oidc-rsa-key.pem",
        REPO / "platform" / "kernelcamp" / "settings.py",
        REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py",
        next((REPO / "courses").rglob("course.toml")),
        next((REPO / "notebooks").rglob("*.ipynb")),  # instructor sources hold hidden tests
        bob.home / "notes.txt",
    ]
    kernel = requests.post(
        f"{alice_server}/api/kernels", headers=hub.headers, json={"name": "python3"}, timeout=60
    )
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["id"]
    probe = _execute(
        hub,
        alice_server,
        kernel_id,
        "import json, os\n"
        "def reach(path):\n"
        "    try:\n"
        "        with open(path, 'rb') as handle:\n"
        "            return 'read' if handle.read(1) else 'empty'\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        f"paths = {[str(p) for p in platform_files]!r}\n"
        "print(json.dumps({'uid': os.getuid(), 'euid': os.geteuid(), 'groups': os.getgroups(),\n"
        "    'pid': os.getpid(), 'reach': {p: reach(p) for p in paths},\n"
        "    'env': dict(os.environ), 'venv': os.path.exists(os.__file__)}))\n",
    )
    report = json.loads(probe["stdout"])
    assert (report["uid"], report["euid"]) == (alice.uid, alice.uid)
    assert report["groups"] in ([], [alice.gid])
    assert report["venv"]
    assert all(Path(p).exists() for p in report["reach"]), "the test's files must exist"
    assert {p: r for p, r in report["reach"].items() if r == "read"} == {}
    assert {name for name in report["env"] if name.startswith("KC_")} <= {"KC_PROFILE"}
    site_secrets = {hub.token, hub.client_secret, (hub.data / "proxy_token").read_text().strip()}
    assert not site_secrets & set(report["env"].values())

    group = cgroups.existing_cgroup(alice.name)
    assert group is not None and report["pid"] in group.pids()

    shell = _terminal(
        hub,
        alice_server,
        f"echo ID:$(id -u):$(id -G); echo SUID:$(~/suid-id); env; "
        f"cat {hub.data}/cookie_secret {settings.DATA_DIR}/oidc-rsa-key.pem {bob.home}/notes.txt; "
        "setsid -w su -c 'echo ROOT''ED' root </dev/null; ls /",
    )
    assert f"ID:{alice.uid}:{alice.gid}\r\n" in shell
    suid_line = re.search(r"SUID:(uid=.*)\r\n", shell)
    assert suid_line and "euid=0" not in suid_line.group(1)
    assert "ROOTED" not in shell and "PRIVATE KEY" not in shell and bob_secret not in shell
    assert (hub.data / "cookie_secret").read_text().strip() not in shell
    assert not any(secret in shell for secret in site_secrets)
    assert not re.search(r"^KC_(?!PROFILE=)", shell, re.MULTILINE)

    # Past the profile's memory limit, the kernel is killed (or gets a MemoryError).
    oom = _execute(hub, alice_server, kernel_id, f"hog = b'x' * {2 * MEM_LIMIT}\nprint('kept')")
    assert "kept" not in oom["stdout"]
    assert oom["error"] == "MemoryError" or {"restarting", "dead"} & set(oom["states"]), oom
