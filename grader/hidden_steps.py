"""The pipeline's steps that keep hidden tests out of the feedback (the rules are in
grader/hidden.py): every hidden line cut from every output before scoring, and, once scored,
nothing shown of what ran after the first hidden test."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbformat import NotebookNode
from nbgrader import utils

from . import result as R
from .hidden import AFTER_HIDDEN_NOTE, hidden_lines, hide_outputs, redact_outputs, redact_text
from .source import HIDDEN_BEGIN

if TYPE_CHECKING:
    from .pipeline import Context


def redact_step(ctx: Context) -> None:
    """No hidden test line in any output (before scoring: the outputs' kinds are kept)."""
    if ctx.nb is None:
        return
    lines = sorted({line for _, line in _hidden_sources(ctx)}, key=len, reverse=True)
    changed = redact_outputs(ctx.nb, lines)
    # The kernel's own stdout/stderr (os.write(2, ...)) reach the result's log.
    ctx.result.log = [redact_text(entry, lines) for entry in ctx.result.log]
    if changed:
        ctx.log(f"redact: hidden test lines cut from {changed} output(s)")


def _hidden_sources(ctx: Context) -> list[tuple[int, str]]:
    """(notebook index, hidden test line) for every cell with hidden tests."""
    master = ctx.prepared.master
    found = []
    for index, cell in enumerate(ctx.nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in master.cells and HIDDEN_BEGIN in master.cells[grade_id].source:
            found += [(index, line) for line in hidden_lines(master.cells[grade_id].source)]
    return found


WITHHELD = "[output withheld until a person has reviewed the submission]"


def withhold_step(ctx: Context) -> None:
    """Nothing a cell showed after the first hidden test reaches the feedback: after a policy
    hit, not even its kind (it could carry an encoded copy of the hidden tests); otherwise only
    what rule 3 of grader/hidden.py keeps (the arguments the hidden tests passed could have been
    recorded). Scores are already set."""
    if ctx.nb is None:
        return
    hidden = _hidden_sources(ctx)
    if not hidden:
        return
    first_hidden = min(index for index, _ in hidden)
    if ctx.hits:
        _withhold_for_review(ctx, first_hidden)
    elif not _shows_outputs_after_hidden_tests(ctx.prepared.source):
        _hide_after_hidden_tests(ctx, first_hidden)


def _withhold_for_review(ctx: Context, first_hidden: int) -> None:
    later_ids = set()
    for cell in ctx.nb.cells[first_hidden + 1 :]:
        later_ids.add(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if cell.cell_type == "code" and cell.get("outputs"):
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=WITHHELD + "\n")]
    for result in ctx.result.cells:
        if result.grade_id in later_ids and result.status in (R.FAILED, R.ERROR):
            result.message = f"{result.status} {WITHHELD}"
    _withhold_kernel_log(ctx, WITHHELD)


def _shows_outputs_after_hidden_tests(source: NotebookNode) -> bool:
    return source.metadata.get("kernelcamp", {}).get("show_outputs_after_hidden_tests") is True


def _hide_after_hidden_tests(ctx: Context, first_hidden: int) -> None:
    master = ctx.prepared.master
    later: dict[str, str] = {}
    hidden_cells = 0
    for cell in ctx.nb.cells[first_hidden + 1 :]:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        given = master.cells.get(grade_id)
        if given is not None and HIDDEN_BEGIN in given.source:
            continue  # already shown as a cell with hidden tests (rule 1)
        hidden_cells += 1
        hide_outputs(
            cell, AFTER_HIDDEN_NOTE, keep_number=given is not None and utils.is_grade(given)
        )
        if grade_id:
            later[grade_id] = given.source if given is not None else ""
    for result in ctx.result.cells:
        if result.grade_id not in later:
            continue
        if result.status in (R.FAILED, R.ERROR):
            result.message = f"{result.status}: {AFTER_HIDDEN_NOTE}"
        elif result.status == R.SKIPPED_ON_SIMULATOR:
            reason = result.message.split(": ", 1)[-1]
            if reason not in later[result.grade_id]:  # not the test's own words
                result.message = f"skipped on the simulator: {AFTER_HIDDEN_NOTE}"
    if hidden_cells:
        _withhold_kernel_log(ctx, AFTER_HIDDEN_NOTE)
        ctx.log(f"hidden: outputs of {hidden_cells} cell(s) after hidden tests not shown")


def _withhold_kernel_log(ctx: Context, note: str) -> None:
    """The kernel's own stderr (os.write(2, ...)) reaches the result's log."""
    ctx.result.log = [
        "kernel log: " + note if entry.startswith("kernel log:") else entry
        for entry in ctx.result.log
    ]
