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
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4.rwbase import rejoin_lines
from nbgrader import utils

from . import result as R
from .bounds import bound_result
from .device import Device
from .execute import KILLED, OUTPUT_LIMIT, Executor
from .feedback import short_page, summary_html
from .hidden import hide_outputs
from .hidden_steps import redact_step, withhold_step
from .limits import Limits
from .policy import Hit, Policy, policy_for
from .reference import CellBudget
from .sandbox.base import KernelHandle, SandboxError
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
from .tamper import canary_held, make_canary


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
    #: The AST policy for the cells the student controls (see grader/policy.py).
    policy: Policy | None = None
    #: The CPU seconds a cell may use, set by the worker (grader/reference.py); None: the
    #: worker's ``Limits.cell_timeout``.
    budget: CellBudget | None = None

    def limits_for(self, limits: Limits) -> Limits:
        """``limits`` with this source's cell budget (the wall-clock backstop unchanged)."""
        if self.budget is None or self.budget.seconds == limits.cell_timeout:
            return limits
        return replace(
            limits, cell_timeout=self.budget.seconds, cell_wall_timeout=limits.cell_wall_limit
        )

    @classmethod
    def build(cls, source: NotebookNode, name: str = "source") -> PreparedSource:
        source = normalize(copy.deepcopy(source))
        summary = validate_source(source, name)
        return cls(
            source=source,
            master=Master.from_source(source),
            release=make_release(source, name),
            graded_ids=[c.grade_id for c in summary.graded_cells],
            policy=_source_policy(source),
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
    #: What the AST policy found in the cells the student controls.
    hits: list[Hit] = field(default_factory=list)

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
        notes: list[str] = []
        ctx.nb, reasons = sanitize(ctx.nb, ctx.prepared.master, ctx.prepared.release, notes)
        for note in notes:
            ctx.result.flag(R.DUPLICATE_CELL, note)
    except Exception as exc:  # nbgrader raises ValidationError/RuntimeError on broken metadata
        ctx.rejected = f"{ctx.name}: its grading metadata could not be repaired ({exc})"
        ctx.nb = None
        return
    for reason in reasons:
        ctx.result.flag(R.TAMPERED_TEST_CELL, reason)
    if reasons:
        ctx.result.flag(R.REVIEW_NEEDED)


def _source_policy(source: NotebookNode) -> Policy:
    """What the given code binds and the tests use, and the assignment's allow-list
    (``kernelcamp.allow`` in the source notebook's metadata)."""
    locked, tests, solutions = [], [], []
    for cell in source.cells:
        if cell.cell_type != "code" or "nbgrader" not in cell.metadata:
            continue
        if utils.is_solution(cell):
            solutions.append(cell.source)
        elif utils.is_grade(cell):
            tests.append(cell.source)
        elif utils.is_locked(cell):
            locked.append(cell.source)
    allow = source.metadata.get("kernelcamp", {}).get("allow", [])
    allow = [a for a in allow if isinstance(a, str)] if isinstance(allow, list) else []
    return policy_for(locked, tests, solutions, allow)


def _student_cells(ctx: Context) -> list[tuple[int, str]]:
    master = ctx.prepared.master
    cells = []
    for index, cell in enumerate(ctx.nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and not (grade_id and master.is_protected(grade_id)):
            cells.append((index, cell.source))
    return cells


def scan_step(ctx: Context) -> None:
    """The AST policy on every cell the student controls; hits hold later points (hold_step)."""
    if ctx.nb is None:
        return
    policy = ctx.prepared.policy or _source_policy(ctx.prepared.source)
    ctx.hits = policy.check(_student_cells(ctx))
    for hit in ctx.hits:
        ctx.result.flag(R.REVIEW_NEEDED, hit.reason)


#: A kernel start longer than this (seconds of wall time) is logged with its phases.
SLOW_START_S = 10.0


def execute_step(ctx: Context) -> None:
    if ctx.nb is None:
        return
    master = ctx.prepared.master
    kernel = ctx.get_kernel()
    for note in kernel.notes:
        ctx.log(f"sandbox: {note}")
        if "network" in note:
            ctx.result.flag(R.NETWORK_NOT_ISOLATED, f"sandbox: {note}")
    phases = getattr(kernel, "start_phases", {})
    if sum(phases.values()) > SLOW_START_S:  # where a slow start waited, for whoever reads it
        ctx.log(
            "sandbox: slow kernel start: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
        )
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
            run = executor.run(cell.source, label=f"cell {index + 1}")
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
        # Late genuine messages (after a forged reply) land in the runs before the verdicts.
        executor.finish()
        _flag_protocol(ctx, executor)
        for cell in ctx.nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in ctx.verdicts and HIDDEN_BEGIN in master.cells[grade_id].source:
                hide_outputs(cell)  # rule 1 of grader/hidden.py, before scoring
    finally:
        tail = kernel.log_tail(2000).strip()
        if tail:
            ctx.log("kernel log: " + tail)
        kernel.close()


def _flag_protocol(ctx: Context, executor: Executor) -> None:
    for reason in executor.violations:
        ctx.result.flag(R.PROTOCOL_VIOLATION, f"kernel protocol: {reason}")
    if executor.violations:
        ctx.result.flag(R.REVIEW_NEEDED)
    if executor.late_outputs:
        ctx.log(f"{executor.late_outputs} output message(s) arrived after their cell: dropped")


def hold_step(ctx: Context) -> None:
    """Points of the cells graded after the first policy hit are held for review: reported in
    ``held_points``, never in ``score``."""
    if not ctx.hits or ctx.nb is None:
        return
    first = min(ctx.hits, key=lambda h: (h.cell, h.line))
    position = {
        c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(ctx.nb.cells)
    }
    for cell in ctx.result.cells:
        if cell.counted and position.get(cell.grade_id, -1) > first.cell:
            cell.held = True
            cell.message += (
                f"\n[held for review: cell {first.cell + 1}, line {first.line} uses "
                f"{first.name!r} ({first.construct})]"
            )
    _recount(ctx.result)


def _recount(result: R.GradeResult) -> None:
    result.score = sum(c.points for c in result.cells if c.counted and not c.held)
    result.held_points = sum(c.points for c in result.cells if c.counted and c.held)


#: Whether held points get a verifying run (tests that only check holds switch it off to save
#: a kernel per submission).
VERIFY_HELD = True


def verify_step(ctx: Context) -> None:
    """A verifying run in a fresh kernel, when points are held and every hit lies in a scratch
    cell (not an answer cell): the notebook runs again without those cells, and a held cell that
    passes there gets its points (at most what it earned first) released. Hits in answer cells,
    or anything the second run flags, keep the points held for a person."""
    held = [c for c in ctx.result.cells if c.held and c.points > 0]
    if not held or ctx.nb is None or not VERIFY_HELD:
        return
    master = ctx.prepared.master
    hit_cells = sorted({h.cell for h in ctx.hits})
    for index in hit_cells:
        grade_id = ctx.nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in master.cells:
            ctx.log(f"verify: not run (cell {index + 1} with a policy hit is an answer cell)")
            return
    nb = copy.deepcopy(ctx.nb)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in hit_cells]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    second = Context(
        prepared=ctx.prepared,
        submission=nb,
        name=ctx.name,
        limits=ctx.limits,
        device=ctx.device,
        get_kernel=ctx.get_kernel,
        result=R.GradeResult(cells=[], score=0.0, max_score=0.0, device=ctx.result.device),
        nb=nb,
    )
    scan_step(second)
    try:
        execute_step(second)
    except Exception as exc:  # noqa: BLE001 - a failed check keeps the points held, no more
        ctx.log(f"verify: the second kernel failed ({exc}); points stay held")
        return
    score_step(second)
    distrust = {R.TAMPERED_RUNTIME, R.KERNEL_KILLED, R.REVIEW_NEEDED, "protocol-violation"}
    if second.hits or distrust & set(second.result.flags):
        ctx.log(f"verify: second run flagged {second.result.flags}; points stay held")
        return
    released = []
    for cell in held:
        again = second.result.cell(cell.grade_id)
        if again.status == R.PASSED and not again.held:
            cell.points = min(cell.points, again.points)
            cell.held = False
            cell.message += "\n[released: passed again in a fresh kernel without the flagged cells]"
            released.append(cell.grade_id)
    if released:
        dropped = ", ".join(str(i + 1) for i in hit_cells)
        ctx.result.reasons.append(
            f"verified in a fresh kernel without cell(s) {dropped}: points of "
            f"{', '.join(released)} released"
        )
    ctx.log(f"verify: {second.result.duration_s or 0:.2f} s, released {released}")
    _recount(ctx.result)


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
        # A cell waiting for a person is graded by hand (the site's grading desk), not reviewed.
        cells.append(scored)
    ctx.result.cells = cells
    ctx.result.max_score = sum(c.max_points for c in cells if c.counted)
    ctx.result.score = sum(c.points for c in cells if c.counted and not c.held)
    ctx.result.held_points = sum(c.points for c in cells if c.counted and c.held)
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
    redact_step,
    score_step,
    hold_step,
    verify_step,
    withhold_step,
    feedback_step,
)


def run_pipeline(ctx: Context, steps: tuple[Step, ...] = STEPS) -> R.GradeResult:
    started = time.monotonic()
    for step in steps:
        t0 = time.monotonic()
        try:
            step(ctx)
        except SandboxError:
            raise  # infrastructure, not the submission: the caller retries or reports it
        except Exception as exc:  # noqa: BLE001 - no input may crash the grader
            _step_failed(ctx, step, exc)
        ctx.log(f"step {step.__name__}: {time.monotonic() - t0:.3f} s")
    ctx.result.duration_s = round(time.monotonic() - started, 3)
    return bound_result(ctx.result)


def _step_failed(ctx: Context, step: Step, exc: Exception) -> None:
    """A step raised on this submission: record the reason, grade what can be graded (nothing
    that depends on the broken step counts), and go on so that a result always comes back."""
    reason = f"the grader could not process this submission ({step.__name__}: "
    reason += f"{type(exc).__name__}: {str(exc)[:300]})"
    ctx.log(reason)
    if step is feedback_step:
        ctx.result.feedback_html = short_page(
            summary_html(ctx.result.cells, ctx.result.score, ctx.result.max_score, 0.0),
            "the feedback page could not be made",
        )
        return
    if ctx.rejected is None:
        ctx.rejected = reason
        ctx.nb = None
        ctx.verdicts.clear()
        if step is not score_step and ctx.result.cells:
            score_step(ctx)  # scores already given came from a notebook that is now rejected
    ctx.result.flag(R.INVALID_SUBMISSION, reason)
