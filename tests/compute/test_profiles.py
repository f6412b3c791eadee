"""One profile list, rendered for every spawner; the deploy/ configs that read it load."""

from __future__ import annotations

import asyncio
import json
import pwd
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.core.management import call_command
from traitlets.config.loader import PyFileConfigLoader

from compute.defaults import default_profile_objects
from compute.profiles import memory_bytes, render, slurm_runtime

REPO = Path(__file__).resolve().parents[2]


def by_slug(items):
    return {item["slug"]: item for item in items}


def test_local_profiles_set_the_simulator_and_limits():
    data = render("local", default_profile_objects())
    sim, mig = data["profiles"]["cpu-simulator"], data["profiles"]["mig-1g"]
    assert sim["environment"]["NUMBA_ENABLE_CUDASIM"] == "1"
    assert "NUMBA_ENABLE_CUDASIM" not in mig["environment"]
    assert sim["mem_limit"] == 2 * 2**30
    assert "--ServerApp.shutdown_no_activity_timeout=1800" in sim["args"]
    assert data["culler"] == {"timeout": 1800, "max_age": 4 * 3600}


def test_kubespawner_profile_list_requests_gpus_mig_slices_and_shm():
    data = render("kubespawner", default_profile_objects())
    profiles = by_slug(data["singleuser"]["profileList"])
    gpu = profiles["gpu-1"]["kubespawner_override"]
    mig = profiles["mig-1g"]["kubespawner_override"]
    sim = profiles["cpu-simulator"]["kubespawner_override"]
    assert gpu["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert mig["extra_resource_limits"] == {"nvidia.com/mig-1g.18gb": "1"}
    assert "extra_resource_limits" not in sim and sim["environment"]["NUMBA_ENABLE_CUDASIM"] == "1"
    assert gpu["node_selector"] == {"nvidia.com/gpu.present": "true"}
    assert gpu["volumes"] == [
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}
    ]
    assert gpu["volume_mounts"] == [{"name": "shm", "mountPath": "/dev/shm"}]
    assert gpu["image"] == "kernelcamp/notebook:cuda"
    assert profiles["cpu-simulator"]["default"] is True


def test_batchspawner_profiles_for_slurm():
    data = render("batchspawner", default_profile_objects())["profiles"]
    assert data["gpu-1"]["req_gres"] == "gpu:1"
    assert data["mig-1g"]["req_gres"] == "gpu:1g.18gb:1"
    assert data["cpu-simulator"]["req_gres"] == ""
    assert data["gpu-1"]["req_memory"] == "65536M"
    assert data["gpu-1"]["req_runtime"] == "03:00:00"
    assert data["gpu-1"]["req_partition"] == "gpu"


def test_units():
    assert memory_bytes("512M") == 512 * 2**20
    assert memory_bytes("16Gi") == 16 * 2**30
    assert slurm_runtime(5400) == "01:30:00"
    with pytest.raises(ValueError):
        memory_bytes("lots")
    with pytest.raises(ValueError):
        render("pbs", [])


@pytest.mark.django_db
def test_export_command_reads_the_database(tmp_path):
    from compute.defaults import ensure_default_profiles
    from compute.models import GpuProfile

    ensure_default_profiles()
    GpuProfile.objects.filter(slug="gpu-1").update(active=False)
    out = tmp_path / "p.json"
    call_command("export_profiles", "--format", "local", "-o", str(out), stdout=StringIO())
    assert set(json.loads(out.read_text())["profiles"]) == {"cpu-simulator", "mig-1g"}
    text = StringIO()
    call_command("export_profiles", "--format", "kubespawner", stdout=text)
    slugs = [p["slug"] for p in yaml.safe_load(text.getvalue())["singleuser"]["profileList"]]
    assert slugs == ["cpu-simulator", "mig-1g"]


def test_checked_in_kubernetes_profiles_match_the_defaults():
    text = StringIO()
    call_command("export_profiles", "--defaults", "--format", "kubespawner", stdout=text)
    on_disk = yaml.safe_load((REPO / "deploy/kubernetes/profiles.yaml").read_text())
    assert on_disk == yaml.safe_load(text.getvalue())
    values = yaml.safe_load((REPO / "deploy/kubernetes/values.yaml").read_text())
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == "generic-oauth"
    assert "access:servers" in values["hub"]["loadRoles"]["kernelcamp-site"]["scopes"]
    assert values["cull"]["enabled"] is True


def _load(path: Path):
    loader = PyFileConfigLoader(path.name, str(path.parent))
    return loader.load_config()


@pytest.fixture
def slurm_config(tmp_path, monkeypatch):
    """deploy/slurm/jupyterhub_config.py loaded with the default profiles exported for it."""
    monkeypatch.setenv("KC_HUB_DATA_DIR", str(tmp_path))
    slurm = tmp_path / "profiles-slurm.json"
    text = StringIO()
    call_command("export_profiles", "--defaults", "--format", "batchspawner", stdout=text)
    slurm.write_text(text.getvalue())
    monkeypatch.setenv("KC_HUB_SLURM_PROFILES", str(slurm))
    return _load(REPO / "deploy/slurm/jupyterhub_config.py")


def test_slurm_config_loads_and_applies_a_profile(slurm_config):
    config = slurm_config
    assert config.JupyterHub.spawner_class == "batchspawner.SlurmSpawner"
    assert config.JupyterHub.authenticator_class == "generic-oauth"
    spawner = SimpleNamespace(environment={}, args=[])
    config.Spawner.apply_user_options(spawner, {"profile": "mig-1g"})
    assert spawner.req_gres == "gpu:1g.18gb:1" and spawner.req_runtime == "04:00:00"
    with pytest.raises(ValueError):
        config.Spawner.apply_user_options(spawner, {"profile": "nope"})


def test_local_hub_config_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("KC_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KC_HUB_API_TOKEN", "a-token-for-this-test")
    profiles = tmp_path / "profiles.json"
    profiles.write_text(json.dumps(render("local", default_profile_objects())))
    monkeypatch.setenv("KC_HUB_PROFILES", str(profiles))
    config = _load(REPO / "deploy/jupyterhub/jupyterhub_config.py")
    assert config.ConfigurableHTTPProxy.command[0].endswith("configurable-http-proxy")
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert "--timeout=1800" in services["idle-culler"]["command"]
    assert "--max-age=14400" in services["idle-culler"]["command"]
    spawner = SimpleNamespace(environment={}, args=[])
    config.Spawner.apply_user_options(spawner, {"profile": "cpu-simulator"})
    assert spawner.environment["NUMBA_ENABLE_CUDASIM"] == "1"
    assert spawner.mem_limit == 2 * 2**30


@pytest.fixture
def offline_kubeconfig(tmp_path, monkeypatch):
    """KubeSpawner loads a cluster configuration when it is made; this one points nowhere and
    nothing below contacts it (building a pod manifest is local)."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "offline",
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:9"}}],
                "contexts": [
                    {"name": "offline", "context": {"cluster": "offline", "user": "offline"}}
                ],
                "users": [{"name": "offline", "user": {"token": "unused"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(path))


def test_real_kubespawner_turns_each_profile_into_the_pod_we_mean(offline_kubeconfig):
    from kubespawner import KubeSpawner

    profiles = yaml.safe_load((REPO / "deploy/kubernetes/profiles.yaml").read_text())
    profile_list = profiles["singleuser"]["profileList"]

    async def pod_for(slug):
        spawner = KubeSpawner(_mock=True, profile_list=profile_list)
        spawner.user_options = {"profile": slug}
        await spawner.load_user_options()
        return await spawner.get_pod_manifest()

    pods = {p["slug"]: asyncio.run(pod_for(p["slug"])) for p in profile_list}
    gpu, mig, sim = (pods[s].spec for s in ("gpu-1", "mig-1g", "cpu-simulator"))
    assert gpu.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    assert mig.containers[0].resources.limits["nvidia.com/mig-1g.18gb"] == "1"
    assert not any(k.startswith("nvidia.com/") for k in sim.containers[0].resources.limits)
    assert gpu.node_selector == {"nvidia.com/gpu.present": "true"}
    shm = next(v for v in gpu.volumes if v.name == "shm")
    assert shm.empty_dir["medium"] == "Memory"
    assert "/dev/shm" in [m.mount_path for m in gpu.containers[0].volume_mounts]
    sim_env = {e.name: e.value for e in sim.containers[0].env}
    assert sim_env["NUMBA_ENABLE_CUDASIM"] == "1"
    assert sim.containers[0].resources.limits["memory"] == 2 * 2**30


def test_real_slurmspawner_writes_the_batch_script_we_mean(slurm_config):
    from batchspawner import SlurmSpawner
    from batchspawner.batchspawner import format_template

    config = slurm_config
    # batchspawner looks the user up in the passwd database: use one every machine has.
    name = pwd.getpwuid(0).pw_name
    user = SimpleNamespace(
        name=name, escaped_name=name, url=f"/user/{name}/", id=1, admin=False, groups=[]
    )
    hub = SimpleNamespace(
        api_url="http://hub:8081/hub/api", base_url="/hub/", url="/hub/", public_host=""
    )
    spawner = SlurmSpawner(config=config, user=user, hub=hub)
    config.Spawner.apply_user_options(spawner, {"profile": "mig-1g"})
    subvars = spawner.get_req_subvars()
    subvars["cmd"] = spawner.cmd_formatted_for_batch()
    script = format_template(spawner.batch_script, **subvars)
    assert "#SBATCH --gres=gpu:1g.18gb:1" in script
    assert "#SBATCH --time=04:00:00" in script and "#SBATCH --mem=16384M" in script
    assert "#SBATCH --partition=gpu-mig" in script
    run_line = next(line for line in script.splitlines() if line.startswith("srun "))
    assert run_line.split()[1:3] == ["batchspawner-singleuser", "jupyterhub-singleuser"]
    assert "--ServerApp.shutdown_no_activity_timeout=1800" in run_line
