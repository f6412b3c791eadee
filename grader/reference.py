"""The reference run: the instructor's own notebook, solutions in place, run once per source in a
sandboxed kernel to measure what its cells cost, so that a submission's cells get a CPU limit in
proportion (``Limits.reference_factor`` times the heaviest reference cell, at least
``Limits.reference_floor``, never above ``Limits.cell_timeout``).

Why: with a fixed 30 s of CPU per cell, an endless loop costs 30 s of CPU (about 64 s of wall
time on a shared 2-core machine) although the exercise needs under a second; that set the
grader's throughput. CPU time, not wall time, is measured, so a busy machine changes neither the
reference nor a submission's verdict. An instructor whose cells vary a lot sets the limit in the
source's metadata (``kernelcamp.cell_cpu_limit``, seconds) and no reference run is made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nbformat import NotebookNode

from .execute import OK, Executor
from .limits import Limits
from .sandbox.base import KernelHandle


@dataclass(frozen=True)
class CellBudget:
    """The CPU seconds each cell of a submission may use, and where that figure came from."""

    seconds: float
    #: For the result's log: "reference: heaviest cell 0.41 s of CPU, x10, floor 10 s".
    origin: str


def declared_limit(source: NotebookNode) -> float | None:
    """The source's ``kernelcamp.cell_cpu_limit`` (seconds), when it is a positive number."""
    value = source.metadata.get("kernelcamp", {}).get("cell_cpu_limit")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def cell_budget(
    source: NotebookNode, limits: Limits, get_kernel: Callable[[], KernelHandle]
) -> CellBudget:
    """The cell limit for submissions of ``source``: declared, measured, or ``cell_timeout``."""
    declared = declared_limit(source)
    if declared is not None:
        return CellBudget(declared, f"declared by the source: {declared:g} s of CPU")
    if not limits.reference_can_lower:
        return CellBudget(limits.cell_timeout, f"fixed: {limits.cell_timeout:g} s of CPU")
    started = time.monotonic()
    heaviest, problem = _measure(source, limits, get_kernel)
    took = time.monotonic() - started
    if heaviest is None:
        return CellBudget(
            limits.cell_timeout,
            f"fixed: {limits.cell_timeout:g} s of CPU (the reference run {problem})",
        )
    seconds = limits.cell_limit_from_reference(heaviest)
    return CellBudget(
        seconds,
        f"{seconds:g} s of CPU from the reference run: its heaviest cell used {heaviest:.2f} s "
        f"(x{limits.reference_factor:g}, at least {limits.reference_floor:g} s, at most "
        f"{limits.cell_timeout:g} s; measured in {took:.1f} s)",
    )


def _measure(
    source: NotebookNode, limits: Limits, get_kernel: Callable[[], KernelHandle]
) -> tuple[float | None, str]:
    """CPU seconds of the reference's heaviest code cell, or None and why not."""
    try:
        kernel = get_kernel()
    except Exception as exc:  # noqa: BLE001 - no measurement: the fixed limit applies
        return None, f"could not start a kernel ({exc})"
    try:
        executor = Executor(kernel, limits, time.monotonic() + limits.notebook_timeout)
        heaviest = 0.0
        for index, cell in enumerate(source.cells):
            if cell.cell_type != "code":
                continue
            run = executor.run(cell.source, label=f"cell {index + 1}")
            if run.status != OK:
                return None, f"stopped at cell {index + 1} ({run.status}: {run.message})"
            if run.cpu_seconds is None:
                return None, "could not measure CPU time in this sandbox"
            heaviest = max(heaviest, run.cpu_seconds)
        return heaviest, ""
    finally:
        kernel.close()
