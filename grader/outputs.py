"""What a cell run produced, and the accounting of its outputs: caps per cell and per notebook
(output past them is dropped and the cell goes on), ``clear_output``, consecutive stream writes
merged, and nbgrader's rule that a failing reply counts as an error even without a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import output_from_msg

from .limits import BOUNDS, Limits

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
KILLED = "killed"
#: No longer produced: output past the cap is dropped and the cell goes on.
OUTPUT_LIMIT = "output-limit"
NOT_RUN = "not-run"

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
class Request:
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


class OutputAccount:
    """Adds the outputs of checked messages to their cell's run, within the caps."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._kept_total = 0

    def output(self, req: Request, msg: dict) -> None:
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
            out = error_node(content) if kind == "error" else None
            if kind == "stream":
                add_stream(run, content["name"], content["text"])
            else:
                run.outputs.append(out or output_from_msg(msg))
            self._keep(req, min(size, 50_000) if first_error else size)
            return
        run.truncated = True
        if kind == "stream" and room > 0:
            add_stream(run, content["name"], content["text"][:room])
            self._keep(req, room)
        elif kind == "execute_result":
            # Kept in short form: nbgrader's partial credit reads the first result's text.
            text = str(content["data"].get("text/plain", ""))[:1000]
            node = output_from_msg(msg)
            node.data = {"text/plain": text}
            node.metadata = {}
            run.outputs.append(node)
            self._keep(req, len(text))

    def _keep(self, req: Request, size: int) -> None:
        req.kept += size
        self._kept_total += size

    def _clear(self, req: Request) -> None:
        req.run.outputs.clear()
        self._kept_total -= req.kept
        req.kept = 0


def apply_failure(req: Request, content: dict) -> None:
    """nbgrader's rule, also for a genuine failure that arrives late: a failing reply or an
    error counts even when no traceback was shown."""
    run = req.run
    if run.status == OK:
        run.status = ERROR
    if not any(o.output_type == "error" for o in run.outputs):
        run.outputs.append(error_node(content))


def error_node(content: dict) -> NotebookNode:
    """An error output from an error message or a failing reply, with bounded text."""
    traceback = content.get("traceback")
    if not isinstance(traceback, list) or not traceback:
        traceback = ["(traceback was suppressed)"]
    return NotebookNode(
        output_type="error",
        ename=str(content.get("ename", "Error"))[:200],
        evalue=str(content.get("evalue", ""))[: BOUNDS.max_error_chars],
        traceback=[str(line)[:_TRACEBACK_LINE_CHARS] for line in traceback[-_TRACEBACK_LINES:]],
    )


def add_stream(run: CellRun, name: str, text: str) -> None:
    # Consecutive writes to one stream become one output, as in Jupyter.
    if run.outputs and run.outputs[-1].output_type == "stream" and run.outputs[-1].name == name:
        run.outputs[-1].text += text
    else:
        run.outputs.append(NotebookNode(output_type="stream", name=name, text=text))


def output_size(msg: dict) -> int:
    """Characters an output message would add to the notebook (a checked message)."""
    content = msg["content"]
    if msg["msg_type"] == "stream":
        return len(content["text"])
    if msg["msg_type"] == "error":
        return (
            len(content.get("ename", ""))
            + len(content.get("evalue", ""))
            + sum(len(line) for line in content.get("traceback", []))
        )
    total = 0
    for value in content.get("data", {}).values():
        total += len(value) if isinstance(value, str) else len(repr(value))
    return total
