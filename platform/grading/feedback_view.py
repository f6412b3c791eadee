"""Feedback in the site's own design, built from the grade (per-cell results) and the notebooks.

Nothing the student wrote reaches the page as markup: their code and outputs are text, their
images become `data:` URIs of checked base64 (SVG only inside `<img>`, where it cannot run or
draw outside its box), and their HTML and markdown pass an allow-list that keeps no `style`,
`class`, `id` or link targets, so no output can paint over the score, hide it or run a script.
Maths is left as TeX in elements marked for KaTeX (served from our own static files), which the
browser renders with `trust` off. Test cells show the test as released (or, once the instructor
has released the hidden tests, as graded) and the grader's result, never the student's copy.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field

import bleach
import mistune
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grading.models import CellScore, Submission

#: Longest text shown for one cell's source or one output; a notebook can be megabytes.
MAX_TEXT_CHARS = 20_000
#: Largest image kept (base64 characters); a bigger one is named, not shown.
MAX_IMAGE_CHARS = 2_000_000
#: At most this many cells are shown.
MAX_CELLS = 400

ALLOWED_TAGS = frozenset(
    {"p", "br", "hr", "b", "i", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
     "table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6", "sub",
     "sup", "del", "span", "div"}
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"th": ["colspan", "rowspan"], "td": ["colspan", "rowspan"]}

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_BASE64 = re.compile(r"\A[A-Za-z0-9+/=\s]*\Z")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|\Z)", re.I | re.S)
_MATH = re.compile(
    r"(?P<display>\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\])|(?P<inline>\$(?P<i1>[^$\n]+?)\$|\\\((?P<i2>.+?)\\\))",
    re.S,
)
_markdown = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


@dataclass
class Output:
    """One output of a cell, in a form the template shows without trusting it."""

    kind: str  # "text", "error", "image", "html", "math"
    text: str = ""
    data_uri: str = ""
    html: SafeString = field(default_factory=lambda: mark_safe(""))


@dataclass
class Block:
    """One cell of the notebook as the feedback page shows it."""

    kind: str  # "prose" (the instructor's), "notes" (the student's prose), "code", "answer", "test"
    grade_id: str = ""
    source: str = ""
    prose: SafeString = field(default_factory=lambda: mark_safe(""))
    outputs: list[Output] = field(default_factory=list)
    result: CellScore | None = None
    #: The test's code as released includes hidden tests the student has not been shown.
    hides_tests: bool = False


@dataclass
class FeedbackDocument:
    blocks: list[Block]
    #: The grade's cells; the view sets `.manual` on each (a grade by hand the reader may see).
    results: list[CellScore]
    hidden_released: bool
    cut: bool = False

    @property
    def has_math(self) -> bool:
        """Whether any block holds maths (the page then loads KaTeX)."""
        return any(
            "kc-math" in block.prose
            or any(o.kind == "math" or "kc-math" in o.html for o in block.outputs)
            for block in self.blocks
        )


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS] + f"\n… ({len(text) - MAX_TEXT_CHARS} more characters)"


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return value if isinstance(value, str) else ""


def sanitize_html(document: str) -> SafeString:
    """Untrusted HTML reduced to structure: no styles, classes, ids, links, media or scripts."""
    # The allow-list strips tags but keeps their text; a script's or style sheet's text is
    # noise, not content.
    document = _SCRIPT_OR_STYLE.sub("", document[: MAX_TEXT_CHARS * 5])
    cleaned = bleach.clean(
        document,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=[],
        strip=True,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - bleach's allow-list output


def render_markdown(text: str) -> SafeString:
    """Markdown (student or instructor) with its maths kept for KaTeX, then sanitized."""
    maths: list[str] = []

    def hold(match: re.Match) -> str:
        display = bool(match.group("display"))
        tex = match.group("d1") or match.group("d2") or match.group("i1") or match.group("i2")
        kind = "display" if display else "inline"
        maths.append(f'<span class="kc-math" data-math="{kind}">{escape(tex)}</span>')
        return f"KCMATH{len(maths) - 1}X"

    text = _MATH.sub(hold, _cut(text))
    cleaned = str(sanitize_html(_markdown(text)))
    for index, markup in enumerate(maths):  # our own markup, added after the allow-list
        cleaned = cleaned.replace(f"KCMATH{index}X", markup, 1)
    return mark_safe(cleaned)  # noqa: S308 - sanitized above; maths escaped


def _image(mime: str, value) -> Output | None:
    value = _text(value).strip()
    if not value or len(value) > MAX_IMAGE_CHARS:
        return None
    if mime == "image/svg+xml":
        if value.startswith("<") or "<svg" in value[:2000]:
            value = base64.b64encode(value.encode("utf-8")).decode("ascii")
        else:
            return None
    elif not _BASE64.match(value):
        return None
    try:
        base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None
    return Output("image", data_uri=f"data:{mime};base64,{''.join(value.split())}")


def safe_outputs(outputs) -> list[Output]:
    shown: list[Output] = []
    for out in outputs if isinstance(outputs, list) else []:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream":
            shown.append(Output("text", text=_cut(_ANSI.sub("", _text(out.get("text"))))))
        elif kind == "error":
            lines = out.get("traceback") or [f"{out.get('ename', '')}: {out.get('evalue', '')}"]
            shown.append(Output("error", text=_cut(_ANSI.sub("", "\n".join(map(str, lines))))))
        elif kind in ("display_data", "execute_result"):
            data = out.get("data") if isinstance(out.get("data"), dict) else {}
            shown.append(_rich_output(data))
    return shown


def _rich_output(data: dict) -> Output:
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        if mime in data and (image := _image(mime, data[mime])):
            return image
    if "text/html" in data:
        return Output("html", html=sanitize_html(_text(data["text/html"])))
    if "text/markdown" in data:
        return Output("html", html=render_markdown(_text(data["text/markdown"])))
    if "text/latex" in data:
        tex = _text(data["text/latex"]).strip().strip("$")
        return Output("math", text=_cut(tex))
    if "text/plain" in data:
        return Output("text", text=_cut(_text(data["text/plain"])))
    return Output("text", text="")


def _graded_cells(notebook_json: str) -> dict[str, dict]:
    try:
        cells = json.loads(notebook_json).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        return {}
    found = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            found.setdefault(meta["grade_id"], cell)
    return found


def _release_markdown(notebook_json: str) -> set[str]:
    try:
        cells = json.loads(notebook_json).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        return set()
    return {_text(c.get("source")) for c in cells if c.get("cell_type") == "markdown"}


def _student_cells(submission: Submission) -> list:
    try:
        cells = json.loads(bytes(submission.notebook)).get("cells", [])
    except (ValueError, RecursionError, AttributeError, TypeError):
        return []
    return cells if isinstance(cells, list) else []


def build(submission: Submission, hidden_released: bool) -> FeedbackDocument:
    """The page's content for a graded submission, in notebook order."""
    grade = submission.grade
    assignment = grade.graded_against
    released = _graded_cells(assignment.release_notebook)
    given_prose = _release_markdown(assignment.release_notebook)
    source = _graded_cells(assignment.source_notebook)
    results = list(grade.cells.all())
    by_id = {r.cell_id: r for r in results}
    blocks: list[Block] = []
    seen: set[str] = set()
    cells = _student_cells(submission)
    for cell in cells[:MAX_CELLS]:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta.get("grade_id"), str) else ""
        if grade_id and grade_id in seen:
            continue  # a copied cell: the grader counted the first copy only
        seen.add(grade_id)
        block = _block(cell, grade_id, released, source, by_id, hidden_released)
        if block.kind == "notes" and _text(cell.get("source")) in given_prose:
            block.kind = "prose"  # the instructor's text, as released and unchanged
        blocks.append(block)
    for grade_id, result in by_id.items():  # a graded cell the student's notebook lost
        if grade_id not in seen:
            blocks.append(
                Block("test", grade_id, released.get(grade_id, {}).get("source", ""), result=result)
            )
    return FeedbackDocument(blocks, results, hidden_released, cut=len(cells) > MAX_CELLS)


def _block(cell, grade_id, released, source, by_id, hidden_released) -> Block:
    result = by_id.get(grade_id)
    master = source.get(grade_id)
    master_meta = master.get("metadata", {}).get("nbgrader", {}) if master else {}
    trusted = master is not None and master_meta.get("locked") and not master_meta.get("solution")
    if cell.get("cell_type") == "markdown" or (master and master.get("cell_type") == "markdown"):
        text = (
            _text((released.get(grade_id) or cell).get("source"))
            if trusted
            else _text(cell.get("source"))
        )
        kind = "answer" if master_meta.get("solution") else "prose" if trusted else "notes"
        return Block(kind, grade_id, prose=render_markdown(text), result=result)
    if cell.get("cell_type") != "code":
        return Block("code", grade_id, source=_cut(_text(cell.get("source"))))
    if master is not None and master_meta.get("grade") and not master_meta.get("solution"):
        test_source = _text(master.get("source"))
        hides = "BEGIN HIDDEN TESTS" in test_source
        if not hidden_released:
            test_source = _text(released.get(grade_id, master).get("source"))
        return Block(
            "test",
            grade_id,
            _cut(test_source),
            result=result,
            hides_tests=hides and not hidden_released,
        )
    text = (
        _text((released.get(grade_id) or cell).get("source"))
        if trusted
        else _text(cell.get("source"))
    )
    kind = "answer" if master_meta.get("solution") else "code"
    return Block(
        kind, grade_id, _cut(text), outputs=safe_outputs(cell.get("outputs")), result=result
    )
