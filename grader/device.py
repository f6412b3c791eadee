"""Which device grades a submission: numba-cuda's simulator or a real GPU."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

SIMULATOR = "cuda-simulator"


@dataclass(frozen=True)
class Device:
    """``label`` is what a GradeResult records: "cuda-simulator" or "gpu:<name>"."""

    label: str

    @property
    def simulator(self) -> bool:
        return self.label == SIMULATOR


@lru_cache(maxsize=1)
def _gpu_name() -> str | None:
    # nvidia-smi instead of numba: importing numba in the grader costs 0.3 s and would tie the
    # grader's own process to the CUDA driver.
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return names[0] if out.returncode == 0 and names else None


def resolve_device(device: str = "auto") -> Device:
    """ "auto": a GPU when one answers, else the simulator. "simulator"/"cpu": always the
    simulator. "gpu": a GPU or ValueError."""
    if device in ("simulator", "cpu", SIMULATOR):
        return Device(SIMULATOR)
    if device.startswith("gpu:"):
        return Device(device)
    name = _gpu_name()
    if device == "gpu":
        if name is None:
            raise ValueError("device 'gpu' requested but no GPU answers nvidia-smi")
        return Device(f"gpu:{name}")
    if device != "auto":
        raise ValueError(f"unknown device {device!r}: use auto, simulator or gpu")
    return Device(f"gpu:{name}") if name else Device(SIMULATOR)
