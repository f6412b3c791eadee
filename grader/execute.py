"""Run cells in a sandboxed kernel: per-cell and per-notebook time, output caps, dead kernels.

nbgrader's Execute preprocessor (nbclient) is not used for this step: it cannot end a cell that
ignores interrupts except by raising (and nbgrader then discards the submission), and it keeps
every byte a cell prints. The rules it applies to the results are kept: an error reply without an
error output gets one appended (so hiding tracebacks does not turn a failure into a pass).
"""

from __future__ import annotations

import json
import queue
import time
from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import output_from_msg

from .limits import Limits
from .sandbox.base import KernelHandle

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
KILLED = "killed"
OUTPUT_LIMIT = "output-limit"
NOT_RUN = "not-run"


@dataclass
class CellRun:
    status: str
    outputs: list[NotebookNode] = field(default_factory=list)
    truncated: bool = False
    duration: float = 0.0
    #: Why the cell ended abnormally, for the student and the log.
    message: str = ""
    reply_status: str | None = None


def _size(msg: dict) -> int:
    content = msg["content"]
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    return len(json.dumps(content.get("data", content)))


class Executor:
    """Sends code to one kernel and collects what comes back, within the limits."""

    def __init__(self, kernel: KernelHandle, limits: Limits, notebook_deadline: float) -> None:
        self.kernel = kernel
        self.limits = limits
        self.deadline = notebook_deadline
        self.dead = False
        self._baseline_threads: int | None = None

    def run(self, code: str) -> CellRun:
        if self.dead or not self.kernel.is_alive():
            self.dead = True
            return CellRun(NOT_RUN, message="not run: the kernel had been stopped by then")
        if self._baseline_threads is None:
            self._baseline_threads = self._count_threads() or 0
        client = self.kernel.client
        started = time.monotonic()
        cell_deadline = min(started + self.limits.cell_timeout, self.deadline)
        msg_id = client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        run = CellRun(OK)
        received = kept = 0
        interrupted_at: float | None = None
        clear_pending = False
        lowered = False
        while True:
            now = time.monotonic()
            if not lowered and now - started >= self.limits.deprioritize_after:
                self.kernel.set_low_priority(True)
                lowered = True
            if interrupted_at is None and now >= cell_deadline:
                if now >= self.deadline:
                    run.status = TIMEOUT
                    run.message = "the notebook's time limit was reached during this cell"
                    self._kill(run, started)
                    return run
                run.status, run.message = (
                    TIMEOUT,
                    (f"stopped: the cell ran longer than {self.limits.cell_timeout:g} s"),
                )
                self.kernel.interrupt()
                interrupted_at = now
            elif interrupted_at is not None and now >= interrupted_at + self.limits.interrupt_grace:
                run.message += "; it ignored the interrupt, so the kernel was stopped"
                self._kill(run, started)
                return run
            try:
                msg = client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                if not self.kernel.is_alive():
                    run.status = KILLED
                    reason = self.kernel.exit_reason() or "kernel died"
                    run.message = f"the kernel stopped during this cell ({reason})"
                    self.dead = True
                    run.duration = time.monotonic() - started
                    return run
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status":
                if msg["content"]["execution_state"] == "idle":
                    break
                continue
            if kind == "clear_output":
                if msg["content"].get("wait"):
                    clear_pending = True
                else:
                    run.outputs.clear()
                    kept = 0
                continue
            if kind not in ("stream", "display_data", "execute_result", "error"):
                continue
            size = _size(msg)
            received += size
            if received > self.limits.output_stop_bytes and interrupted_at is None:
                run.status = OUTPUT_LIMIT
                run.message = f"stopped: the cell printed more than {self.limits.output_stop_bytes // 2**20} MB"
                self.kernel.interrupt()
                interrupted_at = time.monotonic()
            if clear_pending:
                run.outputs.clear()
                kept = 0
                clear_pending = False
            if kind == "error":
                # Always kept (size-limited below): scoring depends on it.
                out = output_from_msg(msg)
                out.traceback = out.traceback[-200:]
                run.outputs.append(out)
                continue
            if kept + size > self.limits.max_output_bytes:
                room = self.limits.max_output_bytes - kept
                run.truncated = True
                if kind == "stream" and room > 0:
                    text = msg["content"]["text"][:room]
                    self._add_stream(run, msg["content"]["name"], text)
                    kept += len(text)
                continue
            kept += size
            if kind == "stream":
                self._add_stream(run, msg["content"]["name"], msg["content"]["text"])
            else:
                run.outputs.append(output_from_msg(msg))
        run.duration = time.monotonic() - started
        if lowered:
            self.kernel.set_low_priority(False)
        self._read_reply(run, msg_id)
        if interrupted_at is not None and run.status == TIMEOUT:
            self._stop_runaway_threads(run, started)
        if run.truncated:
            self._add_stream(run, "stdout", "\n... output truncated by the grader ...\n")
        return run

    def _read_reply(self, run: CellRun, msg_id: str) -> None:
        client = self.kernel.client
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                reply = client.get_shell_msg(timeout=1)
            except queue.Empty:
                return
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            content = reply["content"]
            run.reply_status = content.get("status")
            if run.status == OK and run.reply_status == "error":
                run.status = ERROR
            has_error = any(o.output_type == "error" for o in run.outputs)
            if run.reply_status in ("error", "aborted") and not has_error:
                # nbgrader's rule: a failing reply counts even when no traceback was shown.
                run.outputs.append(
                    NotebookNode(
                        output_type="error",
                        ename=content.get("ename", "Error"),
                        evalue=content.get("evalue", ""),
                        traceback=content.get("traceback") or ["(traceback was suppressed)"],
                    )
                )
            return

    def _count_threads(self) -> int | None:
        """Threads alive in the kernel, asked over its channel; None when it does not answer
        within a few seconds (its main thread is starved or gone)."""
        client = self.kernel.client
        msg_id = client.execute(
            "print(__import__('threading').active_count())",
            silent=False,
            store_history=False,
            allow_stdin=False,
        )
        deadline = time.monotonic() + max(self.limits.interrupt_grace, 5.0)
        text = ""
        while time.monotonic() < deadline:
            try:
                msg = client.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                if not self.kernel.is_alive():
                    return None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"].get("text", "")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self._read_reply(CellRun(OK), msg_id)
                return int(text) if text.strip().isdigit() else None
        return None

    def _stop_runaway_threads(self, run: CellRun, started: float) -> None:
        """An interrupt stops the kernel's main thread only. A simulated CUDA kernel that never
        ends keeps its block threads spinning afterwards, and how far the later cells get then
        depends on the machine's load; so an interrupted cell that leaves threads behind is
        treated like one that ignored the interrupt: the kernel is stopped."""
        threads = self._count_threads()
        if threads is not None and threads <= (self._baseline_threads or 0):
            return
        left = "" if threads is None else f" ({threads - (self._baseline_threads or 0)})"
        run.message += f"; it left threads running{left}, so the kernel was stopped"
        self._kill(run, started)

    def _kill(self, run: CellRun, started: float) -> None:
        self.kernel.kill()
        self.dead = True
        run.duration = time.monotonic() - started
        if run.status == OK:
            run.status = KILLED

    @staticmethod
    def _add_stream(run: CellRun, name: str, text: str) -> None:
        # Consecutive writes to one stream become one output, as in Jupyter.
        if run.outputs and run.outputs[-1].output_type == "stream" and run.outputs[-1].name == name:
            run.outputs[-1].text += text
        else:
            run.outputs.append(NotebookNode(output_type="stream", name=name, text=text))
