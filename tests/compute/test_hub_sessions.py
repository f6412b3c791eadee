"""Sessions against a real JupyterHub, its real proxy and real single-user servers on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compute import reconcile, services
from compute.models import Allocation, GpuProfile, HubSession
from grading.models import Submission

pytestmark = pytest.mark.django_db(transaction=True)


def contents(hub, name: str, path: str):
    import requests

    return requests.get(
        f"{hub.url}/user/{name}/api/contents/{path}", headers=hub.headers, timeout=30
    )


def server_sent_events(response) -> list[tuple[str, dict]]:
    text = b"".join(response.streaming_content).decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_launch_delivers_notebooks_submit_and_stop(hub_settings, student, granted, cohort):
    from django.test import Client
    from django.urls import reverse

    hub = hub_settings
    # As the launch page does: the row now, the hub asked by a background job.
    session = services.request_launch(student, "cpu-simulator")
    # The launch page follows the hub's own spawn progress through the site's event stream.
    client = Client()
    client.force_login(student)
    response = client.get(reverse("session-events", args=[session.pk]))
    assert response["Content-Type"] == "text/event-stream"
    events = server_sent_events(response)
    progress = [data["progress"] for name, data in events if name == "progress"]
    assert progress and progress == sorted(progress), events
    name, done = events[-1]
    assert name == "done" and done["status"] == "running", events
    assert done["url"] == f"{hub.url}/user/stud/lab"
    assert done["delivered"] == ["tiny/add.ipynb"]
    session.refresh_from_db()
    assert session.status == HubSession.Status.RUNNING, session.message
    assert session.delivered == ["tiny/add.ipynb"]

    # The profile reached the spawner: the server runs under the CUDA simulator.
    pid = hub.server_pids()["stud"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert b"NUMBA_ENABLE_CUDASIM=1" in environ
    assert b"KC_PROFILE=cpu-simulator" in environ

    # A double click while it runs starts nothing.
    with pytest.raises(services.SessionError):
        services.launch(student, "cpu-simulator")
    assert HubSession.objects.filter(user=student).count() == 1

    # The student works on the notebook; delivering again never overwrites it.
    response = contents(hub, "stud", "tiny/add.ipynb")
    assert response.status_code == 200
    notebook = response.json()["content"]
    notebook["cells"][1]["source"] = "def add(a, b):\n    return a + b  # mine"
    put = hub.api  # noqa: F841 - the hub client of the site writes through the proxy
    from compute.backends import get_backend

    get_backend().write_file(
        "stud", "tiny/add.ipynb", {"type": "notebook", "format": "json", "content": notebook}
    )
    assert services.deliver(session) == []
    assert "# mine" in json.dumps(contents(hub, "stud", "tiny/add.ipynb").json()["content"])

    submission = services.submit_from_session(student, cohort, "add")
    assert submission.origin == Submission.Origin.SESSION
    assert b"# mine" in bytes(submission.notebook)

    services.stop(session)
    session.refresh_from_db()
    assert session.status == HubSession.Status.STOPPED
    assert session.charged_seconds == pytest.approx(session.runtime_seconds() * granted.cost_weight)
    assert not hub.api("GET", "/users/stud").json()["servers"]


def test_profile_not_granted_is_refused(hub_settings, student, granted):
    with pytest.raises(services.SessionError, match="may not use"):
        services.launch(student, "gpu-1")
    assert not HubSession.objects.exists()
    assert hub_settings.api("GET", "/users/stud").status_code in (200, 404)


def test_spawn_failure_leaves_no_running_session(hub_settings, student, granted, cohort):
    from compute.models import ProfileGrant

    # The site knows a profile the hub does not: the hub's spawn fails.
    ghost = GpuProfile.objects.create(slug="ghost", display_name="Ghost", cost_weight=0)
    ProfileGrant.objects.create(profile=ghost, cohort=cohort)
    try:
        session = services.wait_until_ready(services.launch(student, "ghost"), timeout=60)
        assert session.status == HubSession.Status.FAILED
    except services.SessionError as exc:
        assert "could not be started" in str(exc)
    assert not HubSession.objects.filter(status__in=HubSession.ACTIVE).exists()
    assert not hub_settings.api("GET", "/users/stud").json()["servers"]


def test_spawn_timeout_stops_the_server(hub_settings, settings, student, granted, cohort):
    from compute.models import ProfileGrant

    slow = GpuProfile.objects.create(slug="slow", display_name="Slow", cost_weight=0)
    ProfileGrant.objects.create(profile=slow, cohort=cohort)
    settings.KC_SPAWN_TIMEOUT_S = 3
    session = services.launch(student, "slow")
    assert session.status == HubSession.Status.STARTING  # 202: the hub is still spawning
    session = services.wait_until_ready(session, timeout=30)
    assert session.status == HubSession.Status.FAILED
    assert "too long" in session.message
    hub_settings.stop_all_servers()
    assert not hub_settings.api("GET", "/users/stud").json()["servers"]


def test_reconcile_adopts_warns_and_stops_over_budget(hub_settings, student, granted):
    hub = hub_settings
    # A server the site did not start.
    hub.api("POST", "/users/stud")
    assert hub.api("POST", "/users/stud/server", json={"profile": "cpu-simulator"}).status_code in (
        201,
        202,
    )
    import time

    for _ in range(480):  # a bound for a loaded machine (spawns took over 60 s), not a speed check
        if hub.api("GET", "/users/stud").json()["servers"].get("", {}).get("ready"):
            break
        time.sleep(0.5)
    report = reconcile.reconcile()
    assert report.adopted == ["stud"]
    row = HubSession.objects.get(user=student, status=HubSession.Status.RUNNING)
    assert row.origin == HubSession.Origin.HUB and row.profile == granted

    # 90 % of the 2 GPU-hours used: a warning lands in the server, nothing is stopped.
    HubSession.objects.create(
        user=student, profile=granted, hub_username="stud", status="stopped", charged_seconds=6500
    )
    report = reconcile.reconcile()
    assert report.warned == ["stud"] and not report.stopped
    assert contents(hub, "stud", "BUDGET-WARNING.md").status_code == 200

    # Over budget: stopped, charged, and a new launch is refused with a clear message.
    Allocation.objects.filter(cohort__isnull=False).update(per_user_gpu_hours=1.5)
    report = reconcile.reconcile()
    assert report.stopped == {"stud": "over-budget"}
    row.refresh_from_db()
    assert row.status == HubSession.Status.STOPPED and row.stop_reason == "over-budget"
    assert not hub.api("GET", "/users/stud").json()["servers"]
    with pytest.raises(services.SessionError, match="budget is used up"):
        services.launch(student, "cpu-simulator")


def test_hub_restart_while_servers_run(hub_settings, student, granted):
    hub = hub_settings
    session = services.wait_until_ready(services.launch(student, "cpu-simulator"))
    assert session.status == HubSession.Status.RUNNING
    hub.stop_process()
    # Hub down: nothing is closed, and a launch says so without starting anything.
    report = reconcile.reconcile()
    assert not report.hub_reachable
    session.refresh_from_db()
    assert session.status == HubSession.Status.RUNNING
    hub.start()
    report = reconcile.reconcile()
    assert report.hub_reachable and not report.closed and not report.adopted
    assert contents(hub, "stud", "tiny/add.ipynb").status_code == 200  # routes restored
    # A stop the site never saw (here: through the hub's own API) closes the ledger row.
    hub.api("DELETE", "/users/stud/server")
    for _ in range(60):
        if not hub.api("GET", "/users/stud").json()["servers"]:
            break
        import time

        time.sleep(0.5)
    report = reconcile.reconcile()
    assert report.closed == ["stud"]
    session.refresh_from_db()
    assert session.status == HubSession.Status.STOPPED and session.stop_reason == "gone"
    assert session.charged_seconds > 0
