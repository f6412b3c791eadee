"""Offline, proven: the demo journeys (site, hub, session, grading) run in a network namespace
that has only loopback, every process under `strace` recording connect() calls, and the test
fails on any attempt to reach outside: a connect() to an address that is not loopback (a DNS
server included), a request of the browser to another host, or an asset (script, stylesheet,
font, image, frame) that a served page or stylesheet names on another host.

The journeys themselves are tests/ops/offline_journey.py (the README's run command and the
browser walk of tests/browser/test_run_command.py), run by a pytest inside the namespace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONNECT = re.compile(
    r"connect\(\d+, \{sa_family=(AF_INET6?), sin6?_port=htons\((\d+)\), "
    r"(?:sin_addr=inet_addr\(\"([^\"]+)\"\)|.*?inet_pton\(AF_INET6, \"([^\"]+)\")"
)


EXECVE = re.compile(r"^(\d+)\s+execve\(\"[^\"]*\", \[(.*?)\]")
CLONE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.* = (\d+)$")
BROWSER = ("chromium", "chromedriver", "chrome_crashpad", "/chrome")


def outside_connects(strace_log: str) -> tuple[list[str], list[str]]:
    """connect() calls to an address that is not loopback (nor the any-address), each with the
    command line of the process that made it: (the platform's, the test browser's own).

    The browser's own connections (chromium probing its DNS-over-HTTPS provider or fetching its
    new-tab page) are the test harness's, not KernelCamp's; what the site's pages make the
    browser fetch is checked through its network log instead."""
    parent: dict[str, str] = {}
    command: dict[str, str] = {}
    platform, browser = [], []

    def lineage(tid: str) -> list[str]:
        """The commands of the process and of every ancestor, nearest first."""
        found, seen = [], set()
        while tid not in seen:
            seen.add(tid)
            if tid in command:
                found.append(command[tid])
            if tid not in parent:
                break
            tid = parent[tid]
        return found or [f"pid {tid}"]

    for line in strace_log.splitlines():
        if executed := EXECVE.match(line):
            command[executed.group(1)] = executed.group(2)[:160]
            continue
        if cloned := CLONE.match(line.strip()):
            parent[cloned.group(2)] = cloned.group(1)
            continue
        match = CONNECT.search(line)
        if not match:
            continue
        address = ipaddress.ip_address(match.group(3) or match.group(4))
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        if address.is_loopback or address.is_unspecified:
            continue
        programs = lineage(line.split()[0])
        found = f"{line.strip()}  [{programs[0]}]"
        from_browser = any(b in program for program in programs for b in BROWSER)
        (browser if from_browser else platform).append(found)
    return platform, browser


def test_connects_are_told_apart_by_the_process_that_made_them():
    log = "\n".join(
        [
            '100  execve("/usr/lib/chromium/chromium", ["/usr/lib/chromium/chromium"], 0x1) = 0',
            "100  clone3({flags=CLONE_VM|CLONE_THREAD, stack=0x7f}, 88) = 101",
            "101  connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28)'
            " = -1 ENETUNREACH (Network is unreachable)",
            '200  execve("/venv/bin/python", ["python", "manage.py", "grading_worker"], 0x1) = 0',
            "200  <... clone resumed>, child_tidptr=0x7f) = 201",
            '201  connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}'
            ", 16) = -1 ENETUNREACH (Network is unreachable)",
            '201  connect(4, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}'
            ", 16) = 0",
        ]
    )
    platform, browser = outside_connects(log)
    assert len(platform) == 1 and "grading_worker" in platform[0] and "10.0.0.53" in platform[0]
    assert len(browser) == 1 and "chromium" in browser[0]


def test_the_trap_sees_an_outside_connect(tmp_path):
    """The recorder itself: a connect() to a public address and a DNS lookup are caught."""
    if os.geteuid() != 0 or not shutil.which("strace"):
        pytest.skip("needs root (a network namespace) and strace")
    log = tmp_path / "connect.log"
    probe = (
        "import socket\n"
        "for target in [('192.0.2.1', 443), ('camp.example.edu', 80)]:\n"
        "    try: socket.create_connection(target, 1)\n"
        "    except OSError: pass\n"
    )
    _in_namespace(["strace", *_STRACE, "-o", str(log), sys.executable, "-c", probe])
    caught, _browser = outside_connects(log.read_text())
    assert any("192.0.2.1" in line for line in caught)
    assert any("htons(53)" in line for line in caught)  # the resolver asked a name server


# connect() to catch attempts; execve() and clone() to name the process that made one.
_STRACE = [
    "--seccomp-bpf",
    "-f",
    "-qq",
    "-e",
    "trace=connect,execve,clone,clone3,fork,vfork",
    "-e",
    "signal=none",
]


def _in_namespace(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    script = 'ip link set lo up && exec "$@"'
    return subprocess.run(
        ["unshare", "--net", "--", "sh", "-c", script, "sh", *argv], check=False, **kwargs
    )


def test_the_demo_journeys_reach_nothing_outside_the_machine(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a network namespace needs root")
    for tool in ("unshare", "ip", "strace"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: scripts/test.sh installs it")
    # Installing may use the network (a mirror); running may not. What the run command would
    # install is installed first, outside the namespace (a no-op when scripts/test.sh just did).
    subprocess.run(
        ["bash", "-c", "source scripts/bootstrap.sh"], cwd=REPO, check=True, timeout=1800
    )
    log, report = tmp_path / "connect.log", tmp_path / "report.json"
    env = {**os.environ, "KC_OFFLINE_REPORT": str(report), "KC_TEST_WAIT_FACTOR": "3"}
    result = _in_namespace(
        [
            "strace",
            *_STRACE,
            "-o",
            str(log),
            sys.executable,
            "-m",
            "pytest",
            "tests/ops/offline_journey.py",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    findings = json.loads(report.read_text())
    assert findings["documents"] > 5 and len(findings["requested"]) > 20  # it did walk
    assert findings["outside_requests"] == []
    assert findings["outside_assets"] == []
    platform, browser_own = outside_connects(log.read_text())
    assert platform == []
    print(f"the test browser's own attempts, not the platform's: {len(browser_own)}")
