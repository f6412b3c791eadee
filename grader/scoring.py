"""Scores per graded cell by nbgrader's rules, and the feedback page from nbgrader's template."""

from __future__ import annotations

import copy
import html
import os
import re
import threading
from dataclasses import dataclass

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import LimitOutput

from . import plain
from . import result as R
from .execute import KILLED, NOT_RUN, OUTPUT_LIMIT, TIMEOUT, CellRun
from .feedback import finalize, isolate, short_page, summary_html

SKIP_PREFIX = "KERNELCAMP-SKIP:"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class CellVerdict:
    """Why a cell's outcome is what it is, decided before scoring (runtime events)."""

    run: CellRun | None  # None: never sent to the kernel
    withheld: bool = False  # graded after a canary showed tampering


def _error_text(cell: NotebookNode, limit: int = 40) -> str:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            tb = [_ANSI.sub("", line) for line in out.get("traceback", [])]
            head = f"{out.ename}: {out.evalue}"
            body = "\n".join(tb[-limit:])
            return f"{head}\n{body}" if body else head
    return ""


def _skip_reason(cell: NotebookNode) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            for line in out.text.splitlines():
                if line.startswith(SKIP_PREFIX):
                    return line[len(SKIP_PREFIX) :].strip() or "needs a GPU"
    return None


def score_cell(cell: NotebookNode, verdict: CellVerdict, simulator: bool) -> R.CellResult:
    """One graded cell. The cell carries the source's metadata and, if it ran, its outputs.
    A cell whose run saw forged or out-of-order kernel messages keeps the points it earned only
    as *held* (awaiting review); the genuine failure, when one arrived, has already won."""
    scored = _score_cell(cell, verdict, simulator)
    run = verdict.run
    if run is not None and run.violations and scored.counted:
        reasons = "; ".join(run.violations)
        if scored.points > 0:
            scored.held = True
            scored.message = f"held for review (kernel messages were forged: {reasons}); " + (
                scored.message
            )
        else:
            scored.message += f" (kernel messages were forged: {reasons})"
    return scored


#: What a cell that waits for a person says (the site shows its own words for the status).
NEEDS_A_PERSON = "needs a grade from an instructor"
NO_RESPONSE = "no response: the answer is as it was released"


def is_graded_by_hand(cell: NotebookNode) -> bool:
    """nbgrader's manually graded cells: tasks, and graded answers (a code answer marked
    ``grade`` and ``solution``, or any graded cell that is not code)."""
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("task"):
        return True
    return bool(meta.get("grade")) and (bool(meta.get("solution")) or cell.cell_type != "code")


def _score_by_hand(cell: NotebookNode) -> tuple[str, float, str]:
    """nbgrader's rule (utils.determine_grade, SaveAutoGrades): a task always waits for a person;
    an answer still equal to the released one (same checksum) scores 0 as "no response", any
    other waits for a person, whether its code ran cleanly or raised."""
    meta = cell.metadata.nbgrader
    if not meta.get("task"):
        checksum = meta.get("checksum")
        if checksum is not None and checksum == utils.compute_checksum(cell):
            return R.FAILED, 0.0, NO_RESPONSE
    return R.NEEDS_MANUAL, 0.0, NEEDS_A_PERSON


def _score_cell(cell: NotebookNode, verdict: CellVerdict, simulator: bool) -> R.CellResult:
    meta = cell.metadata.nbgrader
    grade_id, max_points = meta["grade_id"], float(meta["points"])
    run = verdict.run

    def result(status: str, points: float, message: str, counted: bool = True) -> R.CellResult:
        return R.CellResult(grade_id, points, max_points, status, message, counted)

    if is_graded_by_hand(cell):
        # Decided by the answer itself, not by the run: prose and tasks are never executed.
        return result(*_score_by_hand(cell))
    requires_gpu = bool(cell.metadata.get("kernelcamp", {}).get("requires_gpu"))
    if simulator and requires_gpu:
        # Only a GPU can judge it: its points leave the maximum whatever happened, so it is
        # neither awarded nor held against the student (docs/course-format.md).
        reason = _skip_reason(cell) if run is not None else None
        note = reason or "needs a GPU (the cell did not report a reason)"
        return result(R.SKIPPED_ON_SIMULATOR, 0.0, f"skipped on the simulator: {note}", False)
    if run is None or run.status == NOT_RUN:
        return result(R.NOT_RUN, 0.0, run.message if run else "not run: the kernel had stopped")
    if run.status in (TIMEOUT, KILLED, OUTPUT_LIMIT):
        status = R.TIMEOUT if run.status == TIMEOUT else R.ERROR
        return result(status, 0.0, run.message)
    if verdict.withheld:
        return result(
            R.FAILED,
            0.0,
            "withheld: the grading environment was modified before this test ran; "
            "an instructor will review the submission",
        )
    points, note = plain.determine_grade(cell)
    if points is None:
        return result(R.NEEDS_MANUAL, 0.0, NEEDS_A_PERSON)
    error = _error_text(cell)
    if points > 0:
        message = "passed" if points >= max_points else f"partial credit: {points:g}/{max_points:g}"
        return result(R.PASSED, float(points), f"{message} ({note})" if note else message)
    if note and not error:
        return result(R.FAILED, 0.0, note)
    if error:
        status = R.FAILED if error.startswith("AssertionError") else R.ERROR
        return result(status, 0.0, error)
    return result(R.FAILED, 0.0, "the cell wrote to stderr, which nbgrader counts as a failure")


def limit_tracebacks(nb: NotebookNode) -> NotebookNode:
    """nbgrader's LimitOutput: long tracebacks and streams are shortened for the feedback."""
    nb, _ = LimitOutput().preprocess(nb, {})
    return nb


_exporter_lock = threading.Lock()
_exporter = None


def _get_exporter():
    global _exporter
    if _exporter is None:
        import nbgrader
        from nbconvert.exporters import HTMLExporter
        from traitlets.config import Config

        base = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
        config = Config()
        config.HTMLExporter.template_name = "feedback"
        config.HTMLExporter.extra_template_basedirs = [os.path.join(base, "templates")]
        config.HTMLExporter.extra_template_paths = [
            os.path.join(base, "static", "node_modules", "bootstrap", "dist", "css")
        ]
        _exporter = _feedback_exporter_class(HTMLExporter)(config=config)
    return _exporter


_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")


def _feedback_exporter_class(html_exporter: type) -> type:
    """nbconvert's HTMLExporter without its final BeautifulSoup pass.

    After rendering, HTMLExporter re-parses the whole page (about 160 kB with the inlined
    stylesheet) with BeautifulSoup only to add ``alt`` to images that lack it and ``tabindex`` to
    JupyterLab-template elements (``.jp-Notebook ...``), which the classic-based feedback template
    does not produce. That pass was about half of the feedback step's time; the alt text is added
    here with a regular expression instead.
    """
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class FeedbackExporter(html_exporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            html = _IMG_WITHOUT_ALT.sub(
                '<img alt="No description has been provided for this image"', html
            )
            return html, resources

    return FeedbackExporter


_warmed = False


def warm_feedback(release: NotebookNode) -> None:
    """Load and compile the feedback templates once per process (about 0.4 s), so that the
    first graded submission does not pay for it."""
    global _warmed
    if _warmed:
        return
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)  # templates compile whole; no scores needed
        if cell.cell_type == "code":
            cell.outputs = [NotebookNode(output_type="stream", name="stdout", text="warm-up\n")]
    try:
        feedback_html(nb, [], None, 0.0, 0.0, "warm-up")
    except Exception:  # noqa: BLE001 - only an optimisation; the real render reports errors
        pass
    _warmed = True


def feedback_html(
    nb: NotebookNode,
    cells: list[R.CellResult],
    release: NotebookNode | None,
    score: float,
    max_score: float,
    title: str,
) -> str:
    """nbgrader's feedback page. Hidden tests are shown as released (their outputs stay); the
    student's HTML is isolated in frames and the grader's summary comes first (feedback.py)."""
    nb = copy.deepcopy(nb)
    by_id = {c.grade_id: c for c in cells}
    released = {}
    if release is not None:
        for cell in release.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id:
                released[grade_id] = cell.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta or not meta.get("grade_id"):
            continue
        grade_id = meta["grade_id"]
        # Task cells carry points too; nbgrader's template reads a score for each of them.
        if (meta.get("grade") or meta.get("task")) and grade_id in by_id:
            verdict = by_id[grade_id]
            meta["score"] = verdict.points
            if not verdict.counted:
                meta["points"] = 0.0
            if verdict.status not in (R.PASSED, R.FAILED, R.ERROR) or "withheld" in verdict.message:
                cell.setdefault("outputs", []).append(
                    NotebookNode(
                        output_type="stream", name="stdout", text=f"[grader] {verdict.message}\n"
                    )
                )
        if meta.get("locked") and grade_id in released:
            cell.source = released[grade_id]
    nb, frames = isolate(nb)
    held = sum(c.points for c in cells if c.held and c.counted)
    summary = summary_html(cells, score, max_score, held)
    resources = {
        "nbgrader": {
            "notebook": html.escape(title),  # the upload's file name: the template does not escape
            "score": score,
            "max_score": max_score,
            "late_penalty": 0,
        }
    }
    try:
        with _exporter_lock:
            body, _ = _get_exporter().from_notebook_node(nb, resources=resources)
    except Exception as exc:  # noqa: BLE001 - a page with the scores beats no feedback
        return short_page(summary, f"the notebook could not be rendered ({type(exc).__name__})")
    return finalize(body, frames, summary)
