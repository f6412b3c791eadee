"""The README's run command, end to end: `scripts/run.sh` brings up the site, JupyterHub and the
grading worker with the demo data; a demo student logs in once, launches a session, finds the
assignment notebooks in JupyterLab, submits from the session and sees a grade; Ctrl-C stops it
all.

Everything runs on free ports with its own data directory, so a demo the developer left running
on 8000/8001 is not touched.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.compute.hubproc import free_port

from .conftest import REPO_DIR, Site, start_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO_PASSWORD = "kernelcamp-demo"
# tests/ops/test_offline.py runs this journey with every process under strace, which makes the
# services start and stop more slowly: it stretches these bounds (never speed assertions).
WAIT_FACTOR = float(os.environ.get("KC_TEST_WAIT_FACTOR", "1"))


def _wait_for(predicate, what: str, limit: float, proc: subprocess.Popen, log: Path) -> None:
    # A bound so a broken start fails instead of hanging CI; not a speed assertion.
    deadline = time.monotonic() + limit * WAIT_FACTOR
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"run.sh exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            if predicate():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what}: {log.read_text()[-3000:]}")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def demo(tmp_path):
    """scripts/run.sh on free ports, stopped as Ctrl-C stops it (SIGINT to its process group)."""
    site_port, hub_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KC_", "DATABASE_URL", "PYTEST", "DJANGO_"))
    }
    hub_internal_port = free_port()
    env.update(
        KC_DATA_DIR=str(tmp_path / "var"),
        KC_PORT=str(site_port),
        KC_HUB_PORT=str(hub_port),
        KC_HUB_INTERNAL_PORT=str(hub_internal_port),
        KC_PROXY_API_PORT=str(free_port()),
        # The students' Unix accounts (made by the hub as root) of this run only, removed below.
        KC_SESSION_USER_PREFIX=f"jupyter-{secrets.token_hex(2)}-",
    )
    log = tmp_path / "run.log"
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=REPO_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As in a terminal: a command started in the background of a script (CI) inherits
        # SIGINT ignored, and bash cannot trap a signal that was ignored when it started.
        preexec_fn=_default_interrupt_signals,
    )
    site_url, hub_url = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{hub_port}"
    markers = {
        "hub_api": f"http://127.0.0.1:{hub_internal_port}/",
        "data_dir": env["KC_DATA_DIR"],
        "proc": proc,
    }
    try:
        _wait_for(lambda: "KernelCamp is running" in log.read_text(), "run.sh", 600, proc, log)
        _wait_for(
            lambda: requests.get(f"{site_url}/accounts/login/", timeout=5).status_code == 200,
            "the site",
            120,
            proc,
            log,
        )
        _wait_for(
            lambda: requests.get(f"{hub_url}/hub/api/", timeout=5).status_code == 200,
            "the hub",
            120,
            proc,
            log,
        )
        yield {"site": site_url, "hub": hub_url, "log": log, **markers}
    finally:
        # Whatever the test did: run.sh's own shutdown first, then nothing of it may survive
        # (its services run in sessions of their own, out of reach of its process group).
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for pid in _demo_pids(markers):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for account in pwd.getpwall():
            if account.pw_name.startswith(env["KC_SESSION_USER_PREFIX"]):
                subprocess.run(["userdel", "--remove", "--force", account.pw_name], check=False)


def _default_interrupt_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.fixture
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), page_load_timeout=120)
    try:
        yield driver
    finally:
        driver.quit()


def offline_test_runs_this_journey() -> bool:
    """tests/ops/test_offline.py runs this same journey (Ctrl-C included) inside a loopback-only
    network namespace wherever it can: running it here again would only add minutes to CI."""
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("unshare", "ip", "strace"))


@pytest.mark.skipif(
    offline_test_runs_this_journey(), reason="tests/ops/test_offline.py runs this journey offline"
)
def test_demo_student_launches_finds_notebooks_submits_and_sees_a_grade(demo, browser):
    try:
        _journey(demo, browser)
        _ctrl_c_stops_everything(demo)
    except Exception as exc:
        log = demo["log"].read_text(errors="replace")[-4000:]
        raise AssertionError(f"at {browser.current_url}: {exc}\n--- run.sh log ---\n{log}") from exc


def _journey(demo, browser) -> None:
    site = Site(browser, demo["site"])
    site.open("/accounts/login/")
    site.fill({"username": "student1", "password": DEMO_PASSWORD})
    site.click("#login-submit")

    # Launch: the page follows the spawn and offers JupyterLab when the server is ready.
    site.open("/sessions/")
    site.click("#launch")
    link = site.wait(timeout=180 * WAIT_FACTOR).until(
        lambda d: d.find_elements("css selector", "#session-status a[href*='/user/student1/']"),
        "the session never offered a link to JupyterLab",
    )[0]
    lab_url = link.get_attribute("href")
    assert lab_url.startswith(demo["hub"])

    # Logged in once: the hub signs the student in through the site without asking again.
    browser.get(lab_url)
    site.wait(timeout=180 * WAIT_FACTOR).until(
        lambda d: any(
            "kernelcamp-demo" in item.text
            for item in d.find_elements("css selector", ".jp-DirListing-itemText")
        ),
        "JupyterLab never listed the delivered course folder",
    )
    assert "/accounts/login/" not in browser.current_url

    # Submit from the session on the site, and watch the grade arrive.
    site.open("/")
    site.click_element(site.find("main h2 a"))
    site.click_element(site.find("#assignments a"))
    site.click("#session-submit")
    site.path_is(r"/submissions/\d+/")
    site.wait(timeout=240 * WAIT_FACTOR).until(
        lambda d: site.attribute("#submission-status", "data-status") in {"graded", "failed"},
        "the submission was never graded",
    )
    status = site.find("#submission-status")
    assert status.get_attribute("data-status") == "graded", status.text


def _ctrl_c_stops_everything(demo) -> None:
    """Ctrl-C stops the site, the hub, its proxy and the student's server."""
    proc = demo["proc"]
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=60 * WAIT_FACTOR)
    for port in (int(demo["site"].rsplit(":", 1)[1]), int(demo["hub"].rsplit(":", 1)[1])):
        assert not _listening(port), f"port {port} is still open after Ctrl-C"
    deadline = time.monotonic() + 30  # the hub stops the student's server as it shuts down
    while _processes_of(demo) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _processes_of(demo), f"processes left after Ctrl-C: {_processes_of(demo)}"


def _demo_pids(demo) -> list[int]:
    """Processes of this demo: in run.sh's process group, or started with its data directory or
    its hub's API address in their environment (the services and the student's server run in
    sessions of their own). Zombies do not count: they are gone, waiting to be reaped."""
    pgid = demo["proc"].pid
    markers = [f"KC_DATA_DIR={demo['data_dir']}", f"JUPYTERHUB_API_URL={demo['hub_api']}"]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if os.getpgid(int(entry.name)) == pgid:
                found.append(int(entry.name))
                continue
            environ = (entry / "environ").read_bytes().decode(errors="replace").split("\0")
        except (OSError, ProcessLookupError, IndexError):
            continue
        if any(item.startswith(m) for item in environ for m in markers):
            found.append(int(entry.name))
    return found


def _processes_of(demo) -> list[str]:
    return [_describe(str(pid)) for pid in _demo_pids(demo)]


def _describe(pid: str) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200]
        return f"{pid} {command!r}"
    except OSError:
        return pid
