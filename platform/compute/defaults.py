"""The profiles a fresh site starts with (editable later in the admin)."""

from __future__ import annotations

from typing import Any

DEFAULT_PROFILES: list[dict[str, Any]] = [
    {
        "slug": "cpu-simulator",
        "display_name": "CPU + CUDA simulator",
        "description": "Runs numba CUDA kernels on the CPU (small sizes only).",
        "gpu_count": 0,
        "memory_limit": "2G",
        "cpu_limit": 1.0,
        "image": "kernelcamp/notebook:cpu",
        "cost_weight": 0.05,
        "idle_timeout_s": 1800,
        "max_age_s": 4 * 3600,
        "simulator": True,
        "position": 0,
    },
    {
        "slug": "mig-1g",
        "display_name": "MIG slice 1g.18gb",
        "description": "One seventh of an H100/H200: enough for the CUDA course.",
        "gpu_count": 0,
        "mig_slice": "1g.18gb",
        "memory_limit": "16G",
        "cpu_limit": 2.0,
        "shm_size": "2Gi",
        "image": "kernelcamp/notebook:cuda",
        "node_selector": {"nvidia.com/mig.strategy": "mixed"},
        "slurm_partition": "gpu-mig",
        "cost_weight": 1 / 7,
        "idle_timeout_s": 1800,
        "max_age_s": 4 * 3600,
        "position": 1,
    },
    {
        "slug": "gpu-1",
        "display_name": "One full GPU",
        "description": "A whole GPU for profiling and the PyTorch course.",
        "gpu_count": 1,
        "memory_limit": "64G",
        "cpu_limit": 8.0,
        "shm_size": "16Gi",
        "image": "kernelcamp/notebook:cuda",
        "node_selector": {"nvidia.com/gpu.present": "true"},
        "slurm_partition": "gpu",
        "cost_weight": 1.0,
        "idle_timeout_s": 1200,
        "max_age_s": 3 * 3600,
        "position": 2,
    },
]


def default_profile_objects() -> list:
    """Unsaved GpuProfile rows of the defaults (for rendering without a database)."""
    from compute.models import GpuProfile

    return [GpuProfile(**spec) for spec in DEFAULT_PROFILES]


def ensure_default_profiles() -> list:
    from compute.models import GpuProfile

    rows = []
    for spec in DEFAULT_PROFILES:
        row, _ = GpuProfile.objects.get_or_create(slug=spec["slug"], defaults=spec)
        rows.append(row)
    return rows
