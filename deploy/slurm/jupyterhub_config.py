"""JupyterHub on a Slurm cluster with batchspawner, behind the KernelCamp site.

Shares everything with the one-machine config (proxy, SSO through the site, service token,
roles, idle culler) and swaps the spawner: each server is a Slurm job whose resources come from
the profile file `manage.py export_profiles --format batchspawner` writes (re-read per spawn).
Needs `pip install batchspawner` on the hub host and `batchspawner-singleuser` on the nodes.
"""

# ruff: noqa: F821 - `c` and `load_subconfig` are provided by JupyterHub when it loads this file
from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("KC_HUB_IP", "0.0.0.0")  # nodes must reach the hub's API
load_subconfig(str(HERE.parent / "jupyterhub" / "jupyterhub_config.py"))

SLURM_PROFILES = Path(
    os.environ.get(
        "KC_HUB_SLURM_PROFILES",
        Path(os.environ.get("KC_HUB_DATA_DIR", "/srv/jupyterhub")) / "profiles-slurm.json",
    )
)

c.JupyterHub.spawner_class = "batchspawner.SlurmSpawner"
c.JupyterHub.hub_connect_ip = os.environ.get("KC_HUB_CONNECT_IP", "")
# batchspawner puts its own `batchspawner-singleuser` wrapper in front of this command.
c.Spawner.cmd = ["jupyterhub-singleuser"]
c.Spawner.start_timeout = int(os.environ.get("KC_HUB_START_TIMEOUT", "600"))  # queue waits
c.Spawner.http_timeout = 120
c.SlurmSpawner.req_partition = os.environ.get("KC_SLURM_PARTITION", "")
c.SlurmSpawner.req_account = os.environ.get("KC_SLURM_ACCOUNT", "")
c.SlurmSpawner.exec_prefix = ""  # the hub runs sbatch for the user through sudo in production
c.SlurmSpawner.req_keepvars_extra = "NUMBA_ENABLE_CUDASIM,KC_PROFILE"

SLURM_FIELDS = ("req_gres", "req_memory", "req_nprocs", "req_runtime", "req_partition")


def load_slurm_profiles() -> dict:
    if not SLURM_PROFILES.exists():
        return {}
    return json.loads(SLURM_PROFILES.read_text()).get("profiles", {})


def apply_slurm_options(spawner, user_options: dict) -> None:
    """The profile slug the site chose → the job's --gres, --mem, --cpus-per-task, --time."""
    slug = str(user_options.get("profile", ""))
    profiles = load_slurm_profiles()
    if slug not in profiles:
        raise ValueError(f"unknown GPU profile {slug!r}")
    profile = profiles[slug]
    for name in SLURM_FIELDS:
        if profile.get(name):
            setattr(spawner, name, profile[name])
    spawner.environment = {**spawner.environment, **profile.get("environment", {})}
    spawner.args = list(profile.get("args", []))


c.Spawner.apply_user_options = apply_slurm_options
