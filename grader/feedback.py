"""Feedback that cannot lie: what the student's code or prose produced is shown, but it cannot
change how the score and the test results look.

nbconvert's classic template writes ``text/html``, SVG, LaTeX, markdown outputs and markdown
cells into the page as they are, so an absolutely positioned ``<div>`` in an output could paint
"Score: 3.0 / 3.0" over the real score. Here every piece of HTML the student controls is moved
into its own ``<iframe sandbox="" srcdoc=...>`` (no scripts, no forms, no navigation, a unique
origin, and a Content-Security-Policy that loads nothing): a frame cannot draw outside its box.
Images are kept only when they are plain base64; output metadata (sizes, file names) is dropped;
JavaScript is never run. The page itself gets a strict CSP and a trusted summary at the top
written by the grader, not by the template from notebook data.
"""

from __future__ import annotations

import html
import re
import secrets

from nbformat import NotebookNode

from . import result as R
from .limits import BOUNDS
from .messages import STATUS_KO, SUMMARY_KO, both, summary_language_css

#: Loads nothing, runs nothing; inline styles and data: images only.
FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"
PAGE_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:"

_BASE64 = re.compile(r"\A[A-Za-z0-9+/=\s]*\Z")
_HTML_TYPES = ("text/html", "image/svg+xml")


def isolated_frame(document: str, lines: int = 10) -> str:
    """An iframe showing ``document`` (untrusted HTML) in a sandbox of its own."""
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">'
        f"</head><body>{document}</body></html>"
    )
    height = max(60, min(600, 24 * lines + 40))
    return (
        f'<iframe class="kc-student-output" sandbox="" referrerpolicy="no-referrer" '
        f'srcdoc="{html.escape(page, quote=True)}" '
        f'style="width:100%;height:{height}px;border:1px dashed #bbb;background:#fff"></iframe>'
    )


def _markdown_html(text: str) -> str:
    try:
        from nbconvert.filters.markdown import markdown2html

        return markdown2html(text)
    except Exception:  # noqa: BLE001 - shown as text rather than not at all
        return f"<pre>{html.escape(text)}</pre>"


def _isolate_output(out: NotebookNode) -> None:
    data = out.get("data")
    if not isinstance(data, dict):
        return
    kept: dict = {}
    text = data.get("text/plain")
    if isinstance(text, list):
        text = "".join(map(str, text))
    if isinstance(text, str):
        kept["text/plain"] = text
    for mime in ("image/png", "image/jpeg"):
        value = data.get(mime)
        if isinstance(value, str) and _BASE64.match(value):
            kept[mime] = value
    document = None
    for mime in _HTML_TYPES:
        value = data.get(mime)
        if isinstance(value, list):
            value = "".join(map(str, value))
        if isinstance(value, str):
            document = value
            break
    if document is None and isinstance(data.get("text/markdown"), str):
        document = _markdown_html(data["text/markdown"])
    if document is None and isinstance(data.get("text/latex"), str):
        document = f"<pre>{html.escape(data['text/latex'])}</pre>"
    if document is not None:
        kept["text/html"] = isolated_frame(document, document.count("\n") + 1)
    elif not kept:
        kept["text/plain"] = "[output of a type the feedback page does not show]"
    out.data = kept
    out.metadata = {}


def _trusted_markdown(cell: NotebookNode) -> bool:
    """Prose the student cannot have changed: locked cells, restored from the source."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("locked")) and not meta.get("solution")


def isolate(nb: NotebookNode) -> tuple[NotebookNode, dict[str, str]]:
    """Make ``nb`` (a copy) safe to render; returns it and the frames to put in place of the
    placeholders the student's markdown cells now hold."""
    nonce = secrets.token_hex(8)
    frames: dict[str, str] = {}
    shown = 0
    for index, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if len(source) > BOUNDS.max_feedback_cell_source or shown > BOUNDS.max_feedback_sources:
            cut = max(0, min(BOUNDS.max_feedback_cell_source, BOUNDS.max_feedback_sources - shown))
            source = source[:cut] + "\n... (the rest of this cell is not shown: it is too long)\n"
            cell.source = source
        shown += len(source)
        if cell.cell_type == "markdown" and not _trusted_markdown(cell):
            token = f"KCFRAME{nonce}N{index}"
            frames[token] = isolated_frame(_markdown_html(source), source.count("\n") + 2)
            cell.source = token
            cell.pop("attachments", None)
        elif cell.cell_type == "raw":
            cell.cell_type = "markdown"
            token = f"KCFRAME{nonce}N{index}"
            frames[token] = isolated_frame(f"<pre>{html.escape(source)}</pre>", 4)
            cell.source = token
        # Only the source's grading metadata reaches the template (the student's could choose
        # lexers, alt texts, attachments...).
        cell.metadata = NotebookNode(
            {"nbgrader": cell.metadata["nbgrader"]} if "nbgrader" in cell.metadata else {}
        )
        for out in cell.get("outputs", []):
            if out.get("output_type") in ("display_data", "execute_result"):
                _isolate_output(out)
            if "execution_count" in out and not isinstance(out.execution_count, int):
                out.execution_count = None
    return nb, frames


def summary_html(cells: list[R.CellResult], score: float, max_score: float, held: float) -> str:
    """The grader's own account of the score, placed first on the page, in English and Korean
    (the page's ``lang``, set by the site, shows one: grader/messages.py)."""
    ko = SUMMARY_KO

    def result_cell(c: R.CellResult) -> str:
        english, korean = html.escape(c.status), html.escape(STATUS_KO.get(c.status, c.status))
        if c.held:
            english += " (held for review)"
            korean += f" ({ko['held for review']})"
        return both(english, korean)

    def points_cell(c: R.CellResult) -> str:
        points = f"{c.points:g} / {c.max_points:g}"
        if c.counted:
            return points
        return both(f"{points} (not counted)", f"{points} ({ko['not counted']})")

    rows = "".join(
        f"<tr><td><code>{html.escape(c.grade_id)}</code></td><td>{result_cell(c)}</td>"
        f"<td>{points_cell(c)}</td></tr>"
        for c in cells
    )
    held_line = (
        "<p><b>"
        + both(f"{held:g} points are held", f"{held:g}{ko['points are held']}")
        + "</b> "
        + both("until an instructor reviews them.", ko["until an instructor reviews them."])
        + "</p>"
        if held
        else ""
    )
    note = (
        "Written by the grader. Your notebook's own output is shown below in framed boxes and "
        "cannot change this summary."
    )
    total = f"{score:g} / {max_score:g}"
    score_line = both(f"Score: {total}", f"{ko['Score']}: {total}")
    heads = "".join(f"<th>{both(word, ko[word])}</th>" for word in ("Test", "Result", "Points"))
    return (
        summary_language_css()
        + '<div id="kc-grader-summary" style="position:relative;z-index:2147483647;'
        'background:#f5f7fa;border:2px solid #2b5797;padding:0.6em 1em;margin:0.5em 1em">'
        f"<h3>{score_line}</h3>{held_line}"
        f'<table class="table table-condensed"><tr>{heads}</tr>'
        f"{rows}</table><p><small>{both(note, ko[note])}</small></p></div>"
    )


def finalize(page: str, frames: dict[str, str], summary: str) -> str:
    """Put the frames in, the CSP and the summary at the top; bound the page's size."""
    for token, frame in frames.items():
        page = page.replace(f"<p>{token}</p>", frame, 1).replace(token, frame, 1)
    csp = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">'
    page = page.replace("<head>", f"<head>\n{csp}", 1)
    page = page.replace("<body>", f"<body>\n{summary}", 1)
    if len(page.encode("utf-8", "replace")) > BOUNDS.max_feedback_bytes:
        return short_page(summary, "the full feedback page would be too large to show")
    return page


def short_page(summary: str, why: str) -> str:
    csp = f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">'
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{csp}</head><body>{summary}'
        f"<p>{html.escape(why)}.</p></body></html>"
    )
