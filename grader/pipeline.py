"""Grading as a pipeline of small steps over one Context, in the manner of nbconvert preprocessors.

read submission -> sanitize (nbgrader OverwriteCells & co) -> scan code -> execute in the sandbox
(with canaries) -> score (nbgrader's determine_grade) -> feedback (nbgrader's template).

A step that finds the submission unusable sets ``ctx.rejected``; the later steps that need a
notebook then do nothing and the result records 0 points with the reason.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4.rwbase import rejoin_lines
from nbgrader import utils

from . import result as R
from .device import Device
from .execute import KILLED, OUTPUT_LIMIT, Executor
from .limits import Limits
from .sandbox.base import KernelHandle
from .sanitize import Master, sanitize
from .scoring import CellVerdict, feedback_html, limit_tracebacks, score_cell
from .source import (
    HIDDEN_BEGIN,
    SourceError,
    make_release,
    notebook_bytes,
    read_notebook,
    validate_source,
)
from .tamper import canary_held, make_canary, scan_code


def normalize(nb: NotebookNode) -> NotebookNode:
    """Multi-line strings as single strings, as nbformat.reads leaves them (JSON stores lists of
    lines; nbgrader's checksums and the solution markers work on strings)."""
    return rejoin_lines(nb)


@dataclass
class PreparedSource:
    """What grading needs from the instructor's notebook; computed once per source."""

    source: NotebookNode
    master: Master
    release: NotebookNode
    graded_ids: list[str]

    @classmethod
    def build(cls, source: NotebookNode, name: str = "source") -> PreparedSource:
        source = normalize(copy.deepcopy(source))
        summary = validate_source(source, name)
        return cls(
            source=source,
            master=Master.from_source(source),
            release=make_release(source, name),
            graded_ids=[c.grade_id for c in summary.graded_cells],
        )

    @staticmethod
    def key(source: NotebookNode) -> str:
        return hashlib.sha256(notebook_bytes(source)).hexdigest()


@dataclass
class Context:
    prepared: PreparedSource
    submission: bytes | str | Path | NotebookNode
    name: str
    limits: Limits
    device: Device
    get_kernel: Callable[[], KernelHandle]
    result: R.GradeResult
    nb: NotebookNode | None = None
    rejected: str | None = None
    verdicts: dict[str, CellVerdict] = field(default_factory=dict)

    def log(self, line: str) -> None:
        self.result.log.append(line)


Step = Callable[[Context], None]


def read_submission(ctx: Context) -> None:
    if isinstance(ctx.submission, NotebookNode):
        ctx.nb = copy.deepcopy(ctx.submission)
        return
    try:
        ctx.nb = normalize(read_notebook(ctx.submission, ctx.name))
    except SourceError as exc:
        ctx.rejected = str(exc)


def sanitize_step(ctx: Context) -> None:
    if ctx.nb is None:
        return
    try:
        ctx.nb, reasons = sanitize(ctx.nb, ctx.prepared.master, ctx.prepared.release)
    except Exception as exc:  # nbgrader raises ValidationError/RuntimeError on broken metadata
        ctx.rejected = f"{ctx.name}: its grading metadata could not be repaired ({exc})"
        ctx.nb = None
        return
    for reason in reasons:
        ctx.result.flag(R.TAMPERED_TEST_CELL, reason)
    if reasons:
        ctx.result.flag(R.REVIEW_NEEDED)


def scan_step(ctx: Context) -> None:
    if ctx.nb is None:
        return
    master = ctx.prepared.master
    student_cells = []
    for index, cell in enumerate(ctx.nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and not (grade_id and master.is_protected(grade_id)):
            student_cells.append((index, cell.source))
    reasons = scan_code(student_cells)
    for reason in reasons:
        ctx.result.flag(R.REVIEW_NEEDED, reason)


def execute_step(ctx: Context) -> None:
    if ctx.nb is None:
        return
    master = ctx.prepared.master
    kernel = ctx.get_kernel()
    for note in kernel.notes:
        ctx.log(f"sandbox: {note}")
        if "network" in note:
            ctx.result.flag(R.NETWORK_NOT_ISOLATED, f"sandbox: {note}")
    executor = Executor(kernel, ctx.limits, time.monotonic() + ctx.limits.notebook_timeout)
    tampered = False
    try:
        for index, cell in enumerate(ctx.nb.cells):
            if cell.cell_type != "code":
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            graded = bool(grade_id) and utils.is_grade(master.cells[grade_id])
            if graded and not tampered and not executor.dead:
                canary = executor.run(make_canary().code)
                if canary.status not in (KILLED, "not-run") and not canary_held(canary.outputs):
                    tampered = True
                    ctx.result.flag(
                        R.TAMPERED_RUNTIME,
                        f"before cell {index + 1} ({grade_id!r}) a check that must fail passed: "
                        "the submission changed how failures are reported",
                    )
                    ctx.result.flag(R.REVIEW_NEEDED)
            run = executor.run(cell.source)
            cell.outputs = run.outputs
            cell.execution_count = None
            ctx.log(f"cell {index + 1}: {run.status} in {run.duration:.2f} s {run.message}".strip())
            if run.truncated or run.status == OUTPUT_LIMIT:
                ctx.result.flag(R.OUTPUT_TRUNCATED, f"cell {index + 1}: output cut to the limit")
            if run.status == KILLED or (executor.dead and run.status != "not-run"):
                reason = kernel.exit_reason() or "stopped by the grader"
                ctx.result.flag(R.KERNEL_KILLED, f"cell {index + 1}: {run.message} ({reason})")
            if graded:
                ctx.verdicts[grade_id] = CellVerdict(run, withheld=tampered)
                if HIDDEN_BEGIN in master.cells[grade_id].source:
                    _hide_tracebacks(cell)
    finally:
        tail = kernel.log_tail(2000).strip()
        if tail:
            ctx.log("kernel log: " + tail)
        kernel.close()


def _hide_tracebacks(cell: NotebookNode) -> None:
    """IPython tracebacks quote the failing source lines, which may be hidden tests: keep only
    the exception's name and message for cells that have them."""
    for out in cell.outputs:
        if out.output_type == "error":
            out.traceback = [
                f"{out.ename}: {out.evalue}",
                "(traceback not shown: this test cell contains hidden tests)",
            ]


def score_step(ctx: Context) -> None:
    master = ctx.prepared.master
    by_id = {}
    if ctx.nb is not None:
        by_id = {
            c.metadata.nbgrader["grade_id"]: c
            for c in ctx.nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")
        }
    cells = []
    for grade_id in ctx.prepared.graded_ids:
        cell = by_id.get(grade_id) or copy.deepcopy(master.cells[grade_id])
        verdict = ctx.verdicts.get(grade_id, CellVerdict(None))
        scored = score_cell(cell, verdict, ctx.device.simulator)
        if ctx.rejected:
            scored.message = "not run: the submission could not be graded"
        if scored.status == R.NEEDS_MANUAL:
            ctx.result.flag(R.REVIEW_NEEDED, f"cell {grade_id!r} needs a manual grade")
        cells.append(scored)
    ctx.result.cells = cells
    ctx.result.max_score = sum(c.max_points for c in cells if c.counted)
    ctx.result.score = sum(c.points for c in cells if c.counted)
    if ctx.rejected:
        ctx.result.flag(R.INVALID_SUBMISSION, ctx.rejected)


def feedback_step(ctx: Context) -> None:
    r = ctx.result
    if ctx.nb is None:
        r.feedback_html = (
            "<!DOCTYPE html><html><body><h4>Not graded</h4><p>"
            + _escape(ctx.rejected or "")
            + "</p></body></html>"
        )
        return
    nb = limit_tracebacks(ctx.nb)
    r.feedback_html = feedback_html(
        nb, r.cells, ctx.prepared.release, r.score, r.max_score, ctx.name
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


STEPS: tuple[Step, ...] = (
    read_submission,
    sanitize_step,
    scan_step,
    execute_step,
    score_step,
    feedback_step,
)


def run_pipeline(ctx: Context, steps: tuple[Step, ...] = STEPS) -> R.GradeResult:
    started = time.monotonic()
    for step in steps:
        t0 = time.monotonic()
        step(ctx)
        ctx.log(f"step {step.__name__}: {time.monotonic() - t0:.3f} s")
    ctx.result.duration_s = round(time.monotonic() - started, 3)
    return ctx.result
