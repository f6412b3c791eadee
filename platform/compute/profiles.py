"""One renderer of GPU profiles for every spawner: local processes, KubeSpawner, batchspawner.

The site is the source of truth; `manage.py export_profiles --format ...` writes what the hub
configurations in deploy/ read. Each function takes GpuProfile rows (saved or not) and returns
plain JSON-able data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from compute.models import GpuProfile

FORMATS = ("local", "kubespawner", "batchspawner")

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_bytes(text: str) -> int:
    """'4G', '512M', '16Gi' -> bytes (binary units, as the spawners read them)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text or "", re.IGNORECASE)
    if not match:
        raise ValueError(f"not a memory size: {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def slurm_memory(text: str) -> str:
    """Slurm's --mem takes whole megabytes or a K/M/G/T suffix without the 'i'."""
    return f"{math.ceil(memory_bytes(text) / 2**20)}M"


def slurm_runtime(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def culling_args(profile: GpuProfile) -> list[str]:
    """Make the single-user server shut itself down after the profile's idle timeout."""
    return [
        f"--ServerApp.shutdown_no_activity_timeout={profile.idle_timeout_s}",
        f"--MappingKernelManager.cull_idle_timeout={profile.idle_timeout_s}",
        "--MappingKernelManager.cull_interval=60",
    ]


def _environment(profile: GpuProfile) -> dict[str, str]:
    # The same quiet numba-cuda as in grading: the performance warnings on stderr would otherwise
    # make a student's own validation of a correct answer look like a failure.
    env = {
        "KC_PROFILE": profile.slug,
        "NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS": "0",
        "NUMBA_CUDA_WARN_ON_IMPLICIT_COPY": "0",
    }
    if profile.simulator:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    return env


def render_local(profiles: Iterable[GpuProfile]) -> dict[str, Any]:
    """For (Simple)LocalProcessSpawner on one machine: no GPU isolation, environment + limits."""
    profiles = list(profiles)
    out: dict[str, Any] = {}
    for p in profiles:
        env = _environment(p)
        if not p.simulator and not p.gpu_count and not p.mig_slice:
            env["CUDA_VISIBLE_DEVICES"] = ""
        out[p.slug] = {
            "display_name": p.display_name,
            "environment": env,
            "mem_limit": memory_bytes(p.memory_limit),
            "cpu_limit": p.cpu_limit,
            "args": culling_args(p),
            "idle_timeout_s": p.idle_timeout_s,
            "max_age_s": p.max_age_s,
        }
    return {"format": "local", "profiles": out, "culler": culler_limits(profiles)}


def kubespawner_override(p: GpuProfile) -> dict[str, Any]:
    override: dict[str, Any] = {
        "mem_limit": p.memory_limit,
        "mem_guarantee": p.memory_limit,
        "cpu_limit": p.cpu_limit,
        "environment": _environment(p),
        "args": culling_args(p),
    }
    if p.image:
        override["image"] = p.image
    if p.mig_slice:
        override["extra_resource_limits"] = {f"nvidia.com/mig-{p.mig_slice}": "1"}
    elif p.gpu_count:
        override["extra_resource_limits"] = {"nvidia.com/gpu": str(p.gpu_count)}
    if p.node_selector:
        override["node_selector"] = dict(p.node_selector)
    if p.gpu_count or p.mig_slice:
        override["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    if p.shm_size:
        # PyTorch's DataLoader workers share tensors through /dev/shm; the default 64 MB breaks it.
        override["volumes"] = [
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": p.shm_size}}
        ]
        override["volume_mounts"] = [{"name": "shm", "mountPath": "/dev/shm"}]
    return override


def render_kubespawner(profiles: Iterable[GpuProfile]) -> dict[str, Any]:
    """Zero to JupyterHub `singleuser.profileList` (KubeSpawner's profile_list)."""
    items = []
    for index, p in enumerate(profiles):
        item = {
            "display_name": p.display_name,
            "slug": p.slug,
            "description": p.description,
            "kubespawner_override": kubespawner_override(p),
        }
        if index == 0:
            item["default"] = True
        items.append(item)
    return {"singleuser": {"profileList": items}}


def render_batchspawner(profiles: Iterable[GpuProfile]) -> dict[str, Any]:
    """SlurmSpawner settings per profile: req_gres, req_memory, req_runtime, ..."""
    profiles = list(profiles)
    out: dict[str, Any] = {}
    for p in profiles:
        gres = ""
        if p.mig_slice:
            gres = f"gpu:{p.mig_slice}:1"
        elif p.gpu_count:
            gres = f"gpu:{p.gpu_count}"
        out[p.slug] = {
            "display_name": p.display_name,
            "req_gres": gres,
            "req_memory": slurm_memory(p.memory_limit),
            "req_nprocs": str(max(1, math.ceil(p.cpu_limit))),
            "req_runtime": slurm_runtime(p.max_age_s),
            "req_partition": p.slurm_partition,
            "environment": _environment(p),
            "args": culling_args(p),
        }
    return {"format": "batchspawner", "profiles": out, "culler": culler_limits(profiles)}


def render(fmt: str, profiles: Iterable[GpuProfile]) -> dict[str, Any]:
    renderers = {
        "local": render_local,
        "kubespawner": render_kubespawner,
        "batchspawner": render_batchspawner,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderers[fmt](list(profiles))


def culler_limits(profiles: Iterable[GpuProfile]) -> dict[str, int]:
    """The hub-wide culler is the backstop: the longest idle timeout and maximum age."""
    rows = list(profiles)
    return {
        "timeout": max((p.idle_timeout_s for p in rows), default=3600),
        "max_age": max((p.max_age_s for p in rows), default=0),
    }
