"""A team's shared folder, through the real hub: the site launches each member's server on the
team's budget and keeps the hub's team groups; the spawner mounts the team's setgid 2770 folder
as ~/team. One member writes, the other reads and writes back; someone of another team cannot.
At the team's limit the reconcile task stops its members' servers."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import requests

from compute import reconcile, services
from compute.models import Allocation, GpuProfile, HubSession, ProfileGrant
from tests.compute.test_session_isolation import _execute
from tests.site.hackathon import hackathon, registered

pytestmark = pytest.mark.django_db(transaction=True)


def _file(hub, name: str, path: str, text: str | None = None) -> requests.Response:
    url = f"{hub.url}/user/{name}/api/contents/{path}"
    if text is None:
        return requests.get(url, headers=hub.headers, timeout=30)
    model = {"type": "file", "format": "text", "content": text}
    return requests.put(url, headers=hub.headers, json=model, timeout=30)


def _probe(hub, name: str, code: str) -> dict:
    server = f"{hub.url}/user/{name}"
    kernel = requests.post(
        f"{server}/api/kernels", headers=hub.headers, json={"name": "python3"}, timeout=60
    )
    assert kernel.status_code == 201, kernel.text
    result = _execute(hub, server, kernel.json()["id"], code)
    assert result["stdout"], result
    return json.loads(result["stdout"])


def test_team_members_share_a_folder_nobody_else_can_reach(hub_settings):
    from compute.defaults import ensure_default_profiles
    from teams.services import create_team, join_team

    if os.geteuid() != 0:
        pytest.skip("team folders need a hub running as root (Unix groups)")
    hub = hub_settings
    ensure_default_profiles()
    event = hackathon("folder-hack")
    ProfileGrant.objects.create(profile=GpuProfile.objects.get(slug="cpu-simulator"), event=event)
    Allocation.objects.create(
        organization=event.organization, event=event, gpu_hours=10, per_team_gpu_hours=2
    )
    ada, ben, cleo = registered(event, "tf-ada", "tf-ben", "tf-cleo")
    warp = create_team(event, ada, "Warp")
    join_team(ben, warp.join_code)
    other = create_team(event, cleo, "Other")

    sessions = [
        services.launch(person, "cpu-simulator", team.pk)
        for person, team in ((ada, warp), (ben, warp), (cleo, other))
    ]
    for session in sessions:
        session = services.wait_until_ready(session, timeout=240)
        assert session.status == HubSession.Status.RUNNING, (
            session.message,
            hub.log.read_text()[-3000:],
        )
        assert session.team_id in (warp.pk, other.pk)

    # The site put each member in their team's hub group, and nobody else.
    groups = {
        name: hub.api("GET", f"/users/{name}").json()["groups"]
        for name in ("tf-ada", "tf-ben", "tf-cleo")
    }
    assert groups["tf-ada"] == groups["tf-ben"] == [f"kc-team-{warp.pk}"]
    assert groups["tf-cleo"] == [f"kc-team-{other.pk}"]

    assert _file(hub, "tf-ada", "team/plan.md", "# Plan\nblock size 256\n").status_code == 201
    read = _file(hub, "tf-ben", "team/plan.md")
    assert read.status_code == 200 and "block size 256" in read.json()["content"]
    # The other member writes back, into a new file and into the first one.
    assert _file(hub, "tf-ben", "team/results.md", "1.9 ms\n").status_code == 201
    assert _file(hub, "tf-ben", "team/plan.md", "# Plan\nblock size 128\n").status_code == 200
    assert "1.9 ms" in _file(hub, "tf-ada", "team/results.md").json()["content"]

    # The folder on the host: root and the team's group only, setgid; files in the team's group.
    prefix = hub.env["KC_SESSION_TEAM_GROUP_PREFIX"]
    folder = hub.data / "teams" / f"{prefix}{warp.pk}"
    mode = folder.stat().st_mode
    assert stat.S_IMODE(mode) == 0o2770 and folder.stat().st_uid == 0
    assert (folder / "results.md").stat().st_gid == folder.stat().st_gid

    # Someone of another team: her ~/team is her own team's (empty), and the Warp folder is
    # neither visible nor enterable from her server.
    assert _file(hub, "tf-cleo", "team/plan.md").status_code == 404
    report = _probe(
        hub,
        "tf-cleo",
        "import json, os\n"
        "def reach(path):\n"
        "    try:\n"
        "        return sorted(os.listdir(path))\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        f"print(json.dumps({{'groups': os.getgroups(), 'team': reach('team'),\n"
        f"    'warp': reach({str(folder)!r}), 'base': reach({str(folder.parent)!r})}}))\n",
    )
    assert folder.stat().st_gid not in report["groups"]
    assert report["team"] == [] and report["warp"] in ("FileNotFoundError", "PermissionError")
    assert report["base"] in ([], "FileNotFoundError", "PermissionError")
    # Even with the path shown, the modes alone keep a non-member out (checked on the host).
    cleo_uid = Path(f"/home/{hub.env['KC_SESSION_USER_PREFIX']}tf-cleo").stat().st_uid
    assert cleo_uid != 0 and not mode & stat.S_IRWXO

    # The team's hours run out (an earlier session): the reconcile task stops both members'
    # servers, as it stops a person's at their own limit; the other team's keeps running.
    HubSession.objects.create(
        user=ada, team=warp, event=event, hub_username="tf-ada", status="stopped",
        charged_seconds=2 * 3600,
    )  # fmt: skip
    report = reconcile.reconcile()
    assert report.stopped == {"tf-ada": "over-budget", "tf-ben": "over-budget"}
    assert HubSession.objects.get(user=cleo, status=HubSession.Status.RUNNING)
    with pytest.raises(services.SessionError, match="team's GPU-hour budget is used up"):
        services.launch(ben, "cpu-simulator", warp.pk)
