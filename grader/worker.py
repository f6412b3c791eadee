"""A grading worker: a sandbox, a warm kernel waiting for the next submission, a source cache.

Starting a kernel and importing numba costs about a second; a worker starts the next kernel in
the background while it grades, so a queue of submissions does not wait for it. Every kernel is
used for exactly one submission.
"""

from __future__ import annotations

import atexit
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from nbformat import NotebookNode

from . import result as R
from .device import Device, resolve_device
from .limits import Limits
from .pipeline import Context, PreparedSource, run_pipeline
from .reference import cell_budget
from .sandbox import get_sandbox_class
from .sandbox.base import KernelHandle, Sandbox
from .scoring import warm_feedback


class Worker:
    """Grades one submission at a time. Use several workers for parallelism."""

    def __init__(
        self,
        limits: Limits | None = None,
        device: str | Device = "auto",
        sandbox: str = "process",
        warm: bool = True,
        sandbox_options: dict | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.device = device if isinstance(device, Device) else resolve_device(device)
        self.sandbox: Sandbox = get_sandbox_class(sandbox)(
            self.limits, self.device, **(sandbox_options or {})
        )
        self.warm = warm
        self._lock = threading.Lock()
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kc-warm")
        self._next: Future[KernelHandle] | None = None
        self._sources: dict[str, PreparedSource] = {}
        self._closed = False
        if warm:
            self._next = self._starter.submit(self.sandbox.start_kernel)

    def prepare(self, source: NotebookNode, name: str = "source") -> PreparedSource:
        """Validate and pre-process a source notebook (cached by content), and set its cell
        budget: when the limits allow it, the reference solution is run once in a kernel of
        this worker to measure it (grader/reference.py)."""
        key = PreparedSource.key(source)
        if key not in self._sources:
            if len(self._sources) > 32:
                self._sources.clear()
            prepared = PreparedSource.build(source, name)
            with self._lock:
                prepared.budget = cell_budget(prepared.source, self.limits, self._take_kernel)
            warm_feedback(prepared.release)
            self._sources[key] = prepared
        return self._sources[key]

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the warm kernel has started (True), or it failed / there is none."""
        future = self._next
        if future is None:
            return False
        try:
            return future.result(timeout=timeout).is_alive()
        except Exception:  # noqa: BLE001 - a failed warm start is retried by the next grade
            return False

    def _take_kernel(self) -> KernelHandle:
        future, self._next = self._next, None
        if self.warm and not self._closed:
            self._next = self._starter.submit(self.sandbox.start_kernel)
        if future is not None:
            try:
                kernel = future.result()
                if kernel.is_alive():
                    return kernel
                kernel.close()
            except Exception:  # noqa: BLE001 - a failed warm start is retried below
                pass
        return self.sandbox.start_kernel()

    def grade(
        self,
        source: NotebookNode | PreparedSource,
        submission: bytes | str | Path | NotebookNode,
        name: str = "submission.ipynb",
    ) -> R.GradeResult:
        """Grade one submission. Problems with the submission are recorded in the result;
        a broken source raises SourceError, a sandbox that cannot start raises SandboxError."""
        prepared = source if isinstance(source, PreparedSource) else self.prepare(source)
        with self._lock:
            ctx = Context(
                prepared=prepared,
                submission=submission,
                name=name,
                limits=prepared.limits_for(self.limits),
                device=self.device,
                get_kernel=self._take_kernel,
                result=R.GradeResult(cells=[], score=0.0, max_score=0.0, device=self.device.label),
            )
            if prepared.budget is not None:
                ctx.log(f"cell limit: {prepared.budget.origin}")
            return run_pipeline(ctx)

    def close_warm(self) -> None:
        """Discard the waiting kernel (after changing sandbox settings); the next grade starts
        a fresh one."""
        future, self._next = self._next, None
        if future is not None:
            try:
                future.result().close()
            except Exception:  # noqa: BLE001
                pass

    def close(self) -> None:
        self._closed = True
        future, self._next = self._next, None
        if future is not None:
            try:
                future.result().close()
            except Exception:  # noqa: BLE001
                pass
        self._starter.shutdown(wait=True)
        self.sandbox.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: dict[tuple, Worker] = {}
_shared_lock = threading.Lock()


def shared_worker(
    limits: Limits,
    device: str = "auto",
    sandbox: str = "process",
    sandbox_options: dict | None = None,
) -> Worker:
    """One long-lived worker per (limits, device, sandbox) in this process, closed at exit."""
    options = dict(sandbox_options or {})
    key = (limits, device, sandbox, json.dumps(options, sort_keys=True, default=str))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Worker(limits, device, sandbox=sandbox, sandbox_options=options)
        return _shared[key]


@atexit.register
def _close_shared() -> None:
    for worker in list(_shared.values()):
        worker.close()
    _shared.clear()
