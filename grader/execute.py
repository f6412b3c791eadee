"""Run cells in a sandboxed kernel: time limits, output caps, dead kernels, protocol integrity.

nbgrader's Execute preprocessor (nbclient) is not used for this step: it cannot end a cell that
ignores interrupts except by raising (and nbgrader then discards the submission), it keeps every
byte a cell prints, and it believes the first ``execute_reply`` and ``idle`` it sees. The rules it
applies to the results are kept: an error reply without an error output gets one appended (so
hiding tracebacks does not turn a failure into a pass).

Protocol integrity: the student's code holds the kernel's session key, so it can forge any
message. A cell's verdict comes only after both its ``execute_reply`` (shell) and its ``idle``
(iopub) have arrived; every message is checked (grader/protocol.py); a second reply or status for
one request, an idle before busy, an output or error after idle, a message answering a request
the grader never sent, or one that cannot be parsed is a *violation*: never trusted, recorded
with a reason on the cell's run (its points are then held for review). The kernel handles
requests in order, so the real reply of a cell arrives before anything of the next request, and
``finish`` ends the notebook with one empty request: a forged early reply followed by the real
failure is therefore always seen, and the real failure wins.
"""

from __future__ import annotations

import os
import queue
import time
from dataclasses import dataclass, field

import zmq
from nbformat import NotebookNode
from nbformat.v4 import output_from_msg

from .limits import BOUNDS, Limits
from .protocol import message_problem, output_size
from .sandbox.base import KernelHandle

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
KILLED = "killed"
#: No longer produced: output past the cap is dropped and the cell goes on.
OUTPUT_LIMIT = "output-limit"
NOT_RUN = "not-run"

#: Seconds the final empty request and the thread-count probe may take.
_PROBE_SECONDS = 5.0
_TRACEBACK_LINE_CHARS = 2_000
_TRACEBACK_LINES = 200


@dataclass
class CellRun:
    status: str
    outputs: list[NotebookNode] = field(default_factory=list)
    truncated: bool = False
    duration: float = 0.0
    #: Why the cell ended abnormally, for the student and the log.
    message: str = ""
    reply_status: str | None = None
    #: Protocol violations seen for this cell (forged or out-of-order messages): its points are
    #: held for review, one human-readable reason each.
    violations: list[str] = field(default_factory=list)
    #: CPU seconds the kernel used during the cell, when the sandbox lets us measure it.
    cpu_seconds: float | None = None


@dataclass
class _Request:
    """One execute_request sent to the kernel, and what has been seen for it."""

    msg_id: str
    run: CellRun
    #: "cell 3" for the student's cells; None for the grader's own requests (canary, probes).
    label: str | None
    busy: bool = False
    idle: bool = False
    reply: dict | None = None
    kept: int = 0
    clear_pending: bool = False


class Executor:
    """Sends code to one kernel and collects what comes back, within the limits."""

    def __init__(self, kernel: KernelHandle, limits: Limits, notebook_deadline: float) -> None:
        self.kernel = kernel
        self.limits = limits
        self.deadline = notebook_deadline
        self.dead = False
        #: Every violation, as "cell N: reason", for the result's reasons.
        self.violations: list[str] = []
        #: Output dropped because it arrived after its cell had finished (threads printing late).
        self.late_outputs = 0
        self._baseline_threads: int | None = None
        self._requests: dict[str, _Request] = {}
        self._order: list[_Request] = []
        self._current: _Request | None = None
        self._last_done: _Request | None = None
        self._kept_total = 0
        self._poller: zmq.Poller | None = None
        self._delay_start: float | None = None
        self._cores = max(1, os.cpu_count() or 1)

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
        cpu_start = self._kernel_cpu()
        self._delay_start = self._busy_seconds()
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
                self._suspect_previous(req)
                return run
        self._end(req, started)
        if cpu_start is not None:
            cpu_now = self._kernel_cpu()
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
        if self.dead or not self.kernel.is_alive() or self._last_done is None:
            self._hold_after_first_violation()
            return
        last = self._last_done
        req = self._probe("", wait=_PROBE_SECONDS)
        if req.reply is None or not req.idle:
            self.kernel.interrupt()  # a cell that forged its reply and is still running
            self._wait(req, self.limits.interrupt_grace + 1)
        if req.reply is None or not req.idle:
            self._violate(
                last,
                "the kernel did not answer the grader after this cell, so the cell's reply "
                "could not be confirmed as the kernel's own",
            )
        self._hold_after_first_violation()

    def _hold_after_first_violation(self) -> None:
        """Code that forged kernel messages once may have changed the kernel for good: every
        later cell's verdict is held too."""
        first = next((r for r in self._order if r.run.violations), None)
        if first is None:
            return
        where = first.label or "a check between cells"
        for req in self._order[self._order.index(first) + 1 :]:
            if req.label is not None and not req.run.violations:
                req.run.violations.append(f"{where} earlier sent forged kernel messages")

    def _send(self, code: str, label: str | None, probe: bool = False) -> _Request:
        # The canary goes like a cell (in the history, counted); only the grader's probes not.
        msg_id = self.kernel.client.execute(
            code,
            silent=probe and not code,
            store_history=not probe,
            allow_stdin=False,
            stop_on_error=False,
        )
        req = _Request(msg_id, CellRun(OK), label)
        self._requests[msg_id] = req
        self._order.append(req)
        self._current = req
        return req

    def _end(self, req: _Request, started: float) -> None:
        req.run.duration = time.monotonic() - started
        if self._current is req:
            self._current = None
        if req.reply is not None and req.idle:
            self._last_done = req
        reply = req.reply or {}
        req.run.reply_status = reply.get("status")
        if reply.get("status") in ("error", "aborted"):
            self._apply_failure(req, reply)
        if req.run.truncated:
            self._add_stream(req.run, "stdout", "\n... output truncated by the grader ...\n")

    def _over_limit(self, elapsed: float, cpu_start: float | None, run: CellRun) -> str | None:
        """Why the running cell must stop now, or None. CPU time of the kernel's processes is
        the limit, so a busy machine does not change the verdict; a wall-clock limit a few times
        longer stops cells that wait without computing."""
        wall = self.limits.cell_wall_limit
        if elapsed >= wall:
            # Only time in which none of the kernel's threads ran or waited for a CPU counts
            # (a sleeping cell); on a busy machine a computing kernel is never "idle".
            busy = self._busy_seconds()
            if busy is None or self._delay_start is None:
                return f"stopped: the cell ran longer than {wall:g} s"
            if elapsed - (busy - self._delay_start) >= wall:
                return f"stopped: the cell waited longer than {wall:g} s without computing"
        limit = self.limits.cell_timeout
        if elapsed < limit / self._cores:
            return None  # cannot have used `limit` CPU seconds yet
        cpu_now = self._kernel_cpu() if cpu_start is not None else None
        if cpu_now is None:
            if elapsed >= limit:
                return f"stopped: the cell ran longer than {limit:g} s"
            return None
        run.cpu_seconds = round(cpu_now - cpu_start, 3)
        if cpu_now - cpu_start >= limit:
            return f"stopped: the cell used more than {limit:g} s of CPU time"
        return None

    def _busy_seconds(self) -> float | None:
        """Seconds the threads of the kernel and its processes together have spent on a CPU
        or runnable and waiting for one (/proc/PID/task/*/schedstat); None when unknown."""
        pid = getattr(getattr(self.kernel, "proc", None), "pid", None)
        if pid is None:
            return None
        import psutil

        try:
            pids = [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
        except psutil.Error:
            return None
        total = 0
        for process in pids:
            try:
                tasks = os.listdir(f"/proc/{process}/task")
            except OSError:
                continue
            for tid in tasks:
                try:
                    with open(f"/proc/{process}/task/{tid}/schedstat") as fh:
                        on_cpu, waiting = fh.read().split()[:2]
                    total += int(on_cpu) + int(waiting)
                except (OSError, ValueError):
                    continue
        return total / 1e9

    def _kernel_cpu(self) -> float | None:
        """CPU seconds used so far by the kernel and its processes; None when unknown."""
        reader = getattr(self.kernel, "cpu_seconds", None)
        if callable(reader):
            return reader()
        pid = getattr(getattr(self.kernel, "proc", None), "pid", None)
        if pid is None:
            return None
        import psutil

        try:
            proc = psutil.Process(pid)
            times = proc.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            for child in proc.children(recursive=True):
                try:
                    child_times = child.cpu_times()
                except psutil.Error:
                    continue
                total += child_times.user + child_times.system
            return total
        except psutil.Error:
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
                self._blame_unknown(
                    f"a message on the {name} channel could not be read ({type(exc).__name__})"
                )
                return True
            problem = message_problem(msg)
            if problem:
                self._blame_unknown(f"a malformed message on the {name} channel ({problem})")
                return True
            self._dispatch(name, msg)
            return True
        return False

    def _wait(self, req: _Request, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not (req.reply is not None and req.idle) and time.monotonic() < deadline:
            if not self._pump(0.1) and not self.kernel.is_alive():
                return

    def _dispatch(self, channel: str, msg: dict) -> None:
        kind = msg["msg_type"]
        parent = msg.get("parent_header", {})
        req = self._requests.get(parent.get("msg_id"))
        if req is None:
            if parent.get("msg_type") == "execute_request":
                self._blame_unknown(f"a {kind} message answered a request the grader never sent")
            return  # start-up status, kernel_info from the sandbox: not ours, not trusted
        content = msg.get("content", {})
        if channel == "shell":
            if kind != "execute_reply":
                return
            if req.reply is not None:
                self._violate(req, "a second execute_reply arrived for one request")
                if content["status"] != "ok":
                    self._apply_failure(req, content)
                return
            req.reply = content
            if req is not self._current and content["status"] != "ok":
                self._apply_failure(req, content)  # a late genuine failure
            return
        if kind == "status":
            state = content["execution_state"]
            if state == "busy":
                if req.busy or req.idle:
                    self._violate(req, "a second 'busy' status arrived for one request")
                req.busy = True
            elif state == "idle":
                if req.idle:
                    self._violate(req, "a second 'idle' status arrived for one request")
                elif not req.busy:
                    self._violate(req, "an 'idle' status arrived before 'busy'")
                req.idle = True
            return
        if req.idle:
            if kind in ("stream", "display_data", "clear_output"):
                self.late_outputs += 1  # a thread printing after its cell: dropped, harmless
                return
            self._violate(req, f"a {kind} message arrived after the cell had finished (idle)")
            if kind == "error":
                self._apply_failure(req, content)
            return
        if req is not self._current:
            if kind == "error":
                self._apply_failure(req, content)
            return
        if kind == "execute_input":
            if not req.busy:
                self._violate(req, "execute_input arrived before the 'busy' status")
            return
        self._output(req, msg)

    def _blame_unknown(self, text: str) -> None:
        target = self._current or self._last_done
        if target is not None:
            self._violate(target, text)
        else:
            self.violations.append(f"before any cell: {text}")

    def _violate(self, req: _Request, text: str) -> None:
        if text in req.run.violations:
            return
        req.run.violations.append(text)
        self.violations.append(f"{req.label or 'a check between cells'}: {text}")
        if req.label is None:
            # A grader request (the canary) was answered with forged messages: the cell that
            # follows it is the one whose verdict they were meant to change.
            index = self._order.index(req)
            for later in self._order[index + 1 :]:
                if later.label is not None:
                    if text not in later.run.violations:
                        later.run.violations.append(f"before it: {text}")
                    break

    def _suspect_previous(self, req: _Request) -> None:
        """The kernel never started this request before it stopped: it was still busy with
        an earlier one, whose reply and idle were then not the kernel's own."""
        if req.busy:
            return
        index = self._order.index(req)
        for earlier in reversed(self._order[:index]):
            if earlier.reply is not None and earlier.idle:
                self._violate(
                    earlier,
                    "the kernel was still busy with this cell after its reply and idle had "
                    "arrived, so they were forged",
                )
                return

    def _apply_failure(self, req: _Request, content: dict) -> None:
        """nbgrader's rule, also for a genuine failure that arrives late: a failing reply or an
        error counts even when no traceback was shown."""
        run = req.run
        if run.status == OK:
            run.status = ERROR
        if not any(o.output_type == "error" for o in run.outputs):
            run.outputs.append(self._error_node(content))

    @staticmethod
    def _error_node(content: dict) -> NotebookNode:
        traceback = content.get("traceback")
        if not isinstance(traceback, list) or not traceback:
            traceback = ["(traceback was suppressed)"]
        return NotebookNode(
            output_type="error",
            ename=str(content.get("ename", "Error"))[:200],
            evalue=str(content.get("evalue", ""))[: BOUNDS.max_error_chars],
            traceback=[str(line)[:_TRACEBACK_LINE_CHARS] for line in traceback[-_TRACEBACK_LINES:]],
        )

    def _output(self, req: _Request, msg: dict) -> None:
        run, kind, content = req.run, msg["msg_type"], msg["content"]
        if kind == "clear_output":
            if content.get("wait"):
                req.clear_pending = True
            else:
                self._clear(req)
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        if req.clear_pending:
            self._clear(req)
            req.clear_pending = False
        size = output_size(msg)
        room = min(
            self.limits.max_output_bytes - req.kept,
            BOUNDS.max_notebook_output_bytes - self._kept_total,
        )
        first_error = kind == "error" and not any(o.output_type == "error" for o in run.outputs)
        if size <= room or first_error:
            out = self._error_node(content) if kind == "error" else None
            if kind == "stream":
                self._add_stream(run, content["name"], content["text"])
            else:
                run.outputs.append(out or output_from_msg(msg))
            self._keep(req, min(size, 50_000) if first_error else size)
            return
        run.truncated = True
        if kind == "stream" and room > 0:
            self._add_stream(run, content["name"], content["text"][:room])
            self._keep(req, room)
        elif kind == "execute_result":
            # Kept in short form: nbgrader's partial credit reads the first result's text.
            text = str(content["data"].get("text/plain", ""))[:1000]
            node = output_from_msg(msg)
            node.data = {"text/plain": text}
            node.metadata = {}
            run.outputs.append(node)
            self._keep(req, len(text))

    def _keep(self, req: _Request, size: int) -> None:
        req.kept += size
        self._kept_total += size

    def _clear(self, req: _Request) -> None:
        req.run.outputs.clear()
        self._kept_total -= req.kept
        req.kept = 0

    # -- the grader's own requests -------------------------------------------------------------

    def _probe(self, code: str, wait: float) -> _Request:
        """Run grader code in the kernel (no cell limits), waiting at most ``wait`` seconds."""
        previous = self._current
        req = self._send(code, None, probe=True)
        self._wait(req, wait)
        self._end(req, time.monotonic())
        self._current = previous
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
        before = self._busy_seconds()
        if before is None:
            return True
        time.sleep(window)
        after = self._busy_seconds()
        return after is None or after - before > 0.3 * window

    def _kill(self, req: _Request, started: float) -> None:
        self.kernel.kill()
        self.dead = True
        self._end(req, started)
        if req.run.status == OK:
            req.run.status = KILLED
        self._suspect_previous(req)

    @staticmethod
    def _add_stream(run: CellRun, name: str, text: str) -> None:
        # Consecutive writes to one stream become one output, as in Jupyter.
        if run.outputs and run.outputs[-1].output_type == "stream" and run.outputs[-1].name == name:
            run.outputs[-1].text += text
        else:
            run.outputs.append(NotebookNode(output_type="stream", name=name, text=text))
