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
) -> GradeResult:
    """Grade ``submission`` (notebook bytes) against the instructor's ``source_nb``.

    Uses a long-lived worker per (limits, device) in this process, so after the first call a
    warm kernel is usually waiting.
    """
    return shared_worker(limits or Limits(), device).grade(source_nb, submission)
