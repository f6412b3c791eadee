"""Run cells in a sandboxed kernel: time limits, output caps, dead kernels, protocol integrity.

nbgrader's Execute preprocessor (nbclient) is not used for this step: it cannot end a cell that
ignores interrupts except by raising (and nbgrader then discards the submission), it keeps every
byte a cell prints, and it believes the first ``execute_reply`` and ``idle`` it sees. The rules it
applies to the results are kept: an error reply without an error output gets one appended (so
hiding tracebacks does not turn a failure into a pass).

Protocol integrity: the student's code holds the kernel's session key, so it can forge any
message. A cell's verdict comes only after both its ``execute_reply`` (shell) and its ``idle``
(iopub) have arrived; every message is checked, and its order kept, by grader/protocol.py (a
forged or out-of-order message is a *violation*: never trusted, recorded with a reason on the
cell's run, its points then held for review); outputs are counted against the caps by
grader/outputs.py. The kernel handles
requests in order, so the real reply of a cell arrives before anything of the next request, and
``finish`` ends the notebook with one empty request: a forged early reply followed by the real
failure is therefore always seen, and the real failure wins.
"""

from __future__ import annotations

import os
import queue
import time

import zmq

from .limits import Limits
from .outputs import (
    ERROR,
    KILLED,
    NOT_RUN,
    OK,
    OUTPUT_LIMIT,
    TIMEOUT,
    CellRun,
    OutputAccount,
    Request,
    add_stream,
    apply_failure,
)
from .protocol import Ledger, message_problem
from .sandbox.base import KernelHandle

__all__ = [
    "ERROR", "KILLED", "NOT_RUN", "OK", "OUTPUT_LIMIT", "TIMEOUT", "CellRun", "Executor",
]  # fmt: skip

#: Seconds the final empty request and the thread-count probe may take.
_PROBE_SECONDS = 5.0


class Executor:
    """Sends code to one kernel and collects what comes back, within the limits."""

    def __init__(self, kernel: KernelHandle, limits: Limits, notebook_deadline: float) -> None:
        self.kernel = kernel
        self.limits = limits
        self.deadline = notebook_deadline
        self.dead = False
        self.ledger = Ledger(OutputAccount(limits))
        self._baseline_threads: int | None = None
        self._poller: zmq.Poller | None = None
        self._delay_start: float | None = None
        self._cores = max(1, os.cpu_count() or 1)

    @property
    def violations(self) -> list[str]:
        """Every protocol violation, as "cell N: reason", for the result's reasons."""
        return self.ledger.violations

    @property
    def late_outputs(self) -> int:
        """Output messages dropped because they arrived after their cell had finished."""
        return self.ledger.late_outputs

    # -- running cells -------------------------------------------------------------------------

    def run(self, code: str, label: str | None = None) -> CellRun:
        """Run one cell within the cell and notebook limits."""
        if self.dead or not self.kernel.is_alive():
            self.dead = True
            return CellRun(NOT_RUN, message="not run: the kernel had been stopped by then")
        if self._baseline_threads is None:
            self._baseline_threads = self._count_threads() or 0
        req = self._send(code, label)
        run = req.run
        started = time.monotonic()
        cpu_start = self.kernel.cpu_seconds()
        self._delay_start = self.kernel.busy_seconds()
        next_cpu_check = started
        interrupted_at: float | None = None
        lowered = False
        while not (req.reply is not None and req.idle):
            now = time.monotonic()
            after = self.limits.deprioritize_after
            if after is not None and not lowered and now - started >= after:
                self.kernel.set_low_priority(True)
                lowered = True
            if interrupted_at is None:
                if now >= self.deadline:
                    run.status = TIMEOUT
                    run.message = "the notebook's time limit was reached during this cell"
                    self._kill(req, started)
                    return run
                over = None
                if now >= next_cpu_check:
                    over = self._over_limit(now - started, cpu_start, run)
                    next_cpu_check = now + 0.25
                if over:
                    run.status, run.message = TIMEOUT, over
                    self.kernel.interrupt()
                    interrupted_at = now
            elif now >= interrupted_at + self.limits.interrupt_grace and not (
                # Its reply is in, so it did stop; the output it printed before the interrupt
                # is still being read (bounded by the wall-clock limit).
                req.reply is not None and now < interrupted_at + self.limits.cell_wall_limit
            ):
                run.message += "; it ignored the interrupt, so the kernel was stopped"
                self._kill(req, started)
                return run
            if not self._pump(0.1) and not self.kernel.is_alive():
                run.status = KILLED
                reason = self.kernel.exit_reason() or "kernel died"
                run.message = f"the kernel stopped during this cell ({reason})"
                self._end(req, started)
                self.dead = True
                self.ledger.suspect_previous(req)
                return run
        self._end(req, started)
        if cpu_start is not None:
            cpu_now = self.kernel.cpu_seconds()
            run.cpu_seconds = None if cpu_now is None else round(cpu_now - cpu_start, 3)
        if lowered:
            self.kernel.set_low_priority(False)
        if interrupted_at is not None and run.status == TIMEOUT:
            self._stop_runaway_threads(run, started)
        return run

    def finish(self) -> None:
        """End the notebook with one empty request. The kernel answers requests in order, so
        once its reply and idle are in, every genuine message of the earlier cells has arrived
        (a late real failure after a forged reply included)."""
        if self.dead or not self.kernel.is_alive() or self.ledger.last_done is None:
            self.ledger.hold_after_first_violation()
            return
        last = self.ledger.last_done
        req = self._probe("", wait=_PROBE_SECONDS)
        if req.reply is None or not req.idle:
            self.kernel.interrupt()  # a cell that forged its reply and is still running
            self._wait(req, self.limits.interrupt_grace + 1)
        if req.reply is None or not req.idle:
            self.ledger.violate(
                last,
                "the kernel did not answer the grader after this cell, so the cell's reply "
                "could not be confirmed as the kernel's own",
            )
        self.ledger.hold_after_first_violation()

    def _send(self, code: str, label: str | None, probe: bool = False) -> Request:
        # The canary goes like a cell (in the history, counted); only the grader's probes not.
        msg_id = self.kernel.client.execute(
            code,
            silent=probe and not code,
            store_history=not probe,
            allow_stdin=False,
            stop_on_error=False,
        )
        req = Request(msg_id, CellRun(OK), label)
        self.ledger.add(req)
        return req

    def _end(self, req: Request, started: float) -> None:
        req.run.duration = time.monotonic() - started
        if self.ledger.current is req:
            self.ledger.current = None
        if req.reply is not None and req.idle:
            self.ledger.last_done = req
        reply = req.reply or {}
        req.run.reply_status = reply.get("status")
        if reply.get("status") in ("error", "aborted"):
            apply_failure(req, reply)
        if req.run.truncated:
            add_stream(req.run, "stdout", "\n... output truncated by the grader ...\n")

    def _over_limit(self, elapsed: float, cpu_start: float | None, run: CellRun) -> str | None:
        """Why the running cell must stop now, or None. CPU time of the kernel's processes is
        the limit, so a busy machine does not change the verdict; a wall-clock limit a few times
        longer stops cells that wait without computing."""
        wall = self.limits.cell_wall_limit
        if elapsed >= wall:
            # Only time in which none of the kernel's threads ran or waited for a CPU counts
            # (a sleeping cell); on a busy machine a computing kernel is never "idle".
            busy = self.kernel.busy_seconds()
            if busy is None or self._delay_start is None:
                return f"stopped: the cell ran longer than {wall:g} s"
            if elapsed - (busy - self._delay_start) >= wall:
                return f"stopped: the cell waited longer than {wall:g} s without computing"
        limit = self.limits.cell_timeout
        if elapsed < limit / self._cores:
            return None  # cannot have used `limit` CPU seconds yet
        cpu_now = self.kernel.cpu_seconds() if cpu_start is not None else None
        if cpu_now is None:
            if elapsed >= limit:
                return f"stopped: the cell ran longer than {limit:g} s"
            return None
        run.cpu_seconds = round(cpu_now - cpu_start, 3)
        if cpu_now - cpu_start >= limit:
            return f"stopped: the cell used more than {limit:g} s of CPU time"
        return None

    # -- receiving -----------------------------------------------------------------------------

    def _pump(self, timeout: float) -> bool:
        """Take one message from the shell or iopub channel and account for it; False when
        none came within ``timeout`` seconds."""
        client = self.kernel.client
        channels = (("shell", client.shell_channel), ("iopub", client.iopub_channel))
        if self._poller is None:
            self._poller = zmq.Poller()
            for _, channel in channels:
                self._poller.register(channel.socket, zmq.POLLIN)
        ready = dict(self._poller.poll(int(timeout * 1000)))
        for name, channel in channels:
            if channel.socket not in ready:
                continue
            try:
                msg = channel.get_msg(timeout=0)
            except queue.Empty:
                continue
            except Exception as exc:  # noqa: BLE001 - bad JSON, bad signature, too deep, ...
                self.ledger.blame_unknown(
                    f"a message on the {name} channel could not be read ({type(exc).__name__})"
                )
                return True
            problem = message_problem(msg)
            if problem:
                self.ledger.blame_unknown(f"a malformed message on the {name} channel ({problem})")
                return True
            self.ledger.dispatch(name, msg)
            return True
        return False

    def _wait(self, req: Request, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not (req.reply is not None and req.idle) and time.monotonic() < deadline:
            if not self._pump(0.1) and not self.kernel.is_alive():
                return

    # -- the grader's own requests -------------------------------------------------------------

    def _probe(self, code: str, wait: float) -> Request:
        """Run grader code in the kernel (no cell limits), waiting at most ``wait`` seconds."""
        previous = self.ledger.current
        req = self._send(code, None, probe=True)
        self._wait(req, wait)
        self._end(req, time.monotonic())
        self.ledger.current = previous
        return req

    def _count_threads(self) -> int | None:
        """Threads of the kernel's processes, counted by the sandbox from outside the kernel
        (never by code running in it, which the submission could patch to lie); None when the
        sandbox cannot count them."""
        return self.kernel.count_threads()

    def _stop_runaway_threads(self, run: CellRun, started: float) -> None:
        """An interrupt stops the kernel's main thread only. A simulated CUDA kernel that never
        ends keeps its block threads spinning afterwards, and how far the later cells get then
        depends on the machine's load; so an interrupted cell that leaves threads behind is
        treated like one that ignored the interrupt: the kernel is stopped."""
        if not self._still_computing():
            return  # threads that do not compute (idle helpers) change nothing for later cells
        # Threads that were already ending get a moment to go.
        settle = time.monotonic() + 0.5
        threads = self._count_threads()
        while threads is not None and threads > (self._baseline_threads or 0):
            if time.monotonic() > settle:
                break
            time.sleep(0.05)
            threads = self._count_threads()
        if threads is not None and threads <= (self._baseline_threads or 0):
            return
        left = "" if threads is None else f" ({threads - (self._baseline_threads or 0)})"
        run.message += f"; it left threads running{left}, so the kernel was stopped"
        self.kernel.kill()
        self.dead = True
        run.duration = time.monotonic() - started

    def _still_computing(self, window: float = 0.5) -> bool:
        """Whether some thread of the kernel keeps running or waiting for a CPU with no cell
        running (spinning threads left behind; an idle helper thread sleeps). Measured as
        running plus runnable time, so a busy machine does not hide it. True when unknown."""
        before = self.kernel.busy_seconds()
        if before is None:
            return True
        time.sleep(window)
        after = self.kernel.busy_seconds()
        return after is None or after - before > 0.3 * window

    def _kill(self, req: Request, started: float) -> None:
        self.kernel.kill()
        self.dead = True
        self._end(req, started)
        if req.run.status == OK:
            req.run.status = KILLED
        self.ledger.suspect_previous(req)
