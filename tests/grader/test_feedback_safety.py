"""Feedback that cannot lie: the overlay attack of issue 9 paints a fake "Score: 3.0 / 3.0" over
the real one with an HTML output, an SVG, a markdown output and a markdown cell. None of it may
reach the page as markup: it is shown inside sandboxed frames under the grader's own summary.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from .builders import source_nb, submission

pytestmark = pytest.mark.slow

OVERLAY = (
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:white;'
    'z-index:2147483647"><h4>FAKE Score: 3.0 / 3.0</h4></div>'
)
SOURCE = source_nb(
    "def double(x):\n    return 2 * x",
    ["assert double(3) == 6", "assert double(5) == 10", "assert double(0) == 0"],
)


class _Page(HTMLParser):
    """What a browser would draw from the page itself (not from inside a srcdoc frame)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.styles: list[str] = []
        self.frames: list[dict] = []
        self.scripts = 0
        self.csp = ""
        self.open: list[str] = []
        #: Text the page draws as a heading: the overlay's fake score, if it got through.
        self.headings: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        attrs = dict(attrs)
        if "style" in attrs:
            self.styles.append(attrs["style"] or "")
        if tag == "iframe":
            self.frames.append(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = self.csp or attrs.get("content", "")

    def handle_endtag(self, tag):
        if tag in self.open:
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    def handle_data(self, data):
        self.text.append(data)
        if any(tag in ("h1", "h2", "h3", "h4") for tag in self.open):
            self.headings.append(data)


def test_student_html_cannot_paint_over_the_score(worker):
    answer = (
        "from IPython.display import HTML, SVG, Markdown, Javascript, display\n"
        "def double(x):\n    return -x\n"  # wrong: the real score is 0 / 3
        f"display(HTML({OVERLAY!r}))\n"
        f'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject>{OVERLAY}'
        "</foreignObject></svg>'))\n"
        f"display(Markdown({OVERLAY!r}))\n"
        "display(Javascript('document.body.innerHTML = \"FAKE Score: 3.0 / 3.0\"'))\n"
    )
    extra = [new_markdown_cell(OVERLAY), new_code_cell(f"HTML({OVERLAY!r})")]
    res = worker.grade(SOURCE, submission(SOURCE, answer, extra), name='<b onclick="x">.ipynb')
    assert res.score == 0
    page = _Page()
    page.feed(res.feedback_html)
    drawn = "".join(page.text)
    # The student's code is shown (escaped), but their markup draws nothing on the page.
    assert not any("FAKE" in text for text in page.headings), page.headings
    framed = [f for f in page.frames if "FAKE Score" in f.get("srcdoc", "")]
    assert len(framed) >= 4, "HTML, SVG, markdown output and markdown cell: each in a frame"
    assert not any("fixed" in style.replace(" ", "") for style in page.styles)
    assert "Score: 0 / 3" in drawn, "the grader's own summary comes first"
    assert drawn.index("Score: 0 / 3") < 200 + drawn.index("Score")
    assert len(page.frames) >= 4
    for frame in page.frames:
        assert frame.get("sandbox") == "", frame  # no scripts, no forms, a unique origin
        assert "default-src 'none'" in frame["srcdoc"]
    assert "default-src 'none'" in page.csp, "the page itself loads and runs nothing"
    assert '<b onclick="x">' not in res.feedback_html, "the file name is escaped"
