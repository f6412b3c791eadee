"""KernelCamp's grading engine: nbgrader's rules, a sandboxed kernel per submission.

Never imports Django: the platform calls it from a task worker, and it runs on its own from the
command line (``python -m grader``).
"""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode

from .device import SIMULATOR, Device, resolve_device
from .limits import Limits
from .result import CellResult, GradeResult
from .sandbox import KernelHandle, ProcessSandbox, Sandbox, SandboxError
from .worker import Worker, shared_worker

__all__ = [
    "SIMULATOR",
    "CellResult",
    "Device",
    "GradeResult",
    "KernelHandle",
    "Limits",
    "ProcessSandbox",
    "Sandbox",
    "SandboxError",
    "Worker",
    "grade",
    "resolve_device",
]


def grade(
    source_nb: NotebookNode,
    submission: bytes | str | Path | NotebookNode,
    limits: Limits | None = None,
    device: str = "auto",
    sandbox: str = "process",
    sandbox_options: dict | None = None,
) -> GradeResult:
    """Grade ``submission`` (notebook bytes) against the instructor's ``source_nb``.

    Uses a long-lived worker per (limits, device, sandbox) in this process, so after the first
    call a warm kernel is usually waiting. ``sandbox`` names a registered sandbox and
    ``sandbox_options`` are its constructor's keyword arguments (the site's
    KC_GRADING_SANDBOX / KC_GRADING_SANDBOX_OPTIONS settings).
    """
    worker = shared_worker(limits or Limits(), device, sandbox, sandbox_options)
    return worker.grade(source_nb, submission)
