"""Notebooks for the feedback, progress and similarity tests: hostile outputs, copied answers."""

from __future__ import annotations

import base64
import json

import nbformat

from grader.source import make_release, notebook_bytes
from tests.site.factories import tiny_notebook

#: A 1×1 PNG, so an honest image output has something to show.
PIXEL_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d4944415478da63f8cfc0f01f0005000201a0d4ea2f0000000049454e44ae426082"
    )
).decode()

FAKE_SCORE = "SCORE 99 / 3"
HOSTILE_HTML = (
    # An overlay painting a fake score over the real one.
    f'<div id="fb-score-value" class="fb-score" style="position:fixed;top:0;left:0;right:0;'
    f'bottom:0;z-index:2147483647;background:#fff;font-size:80px">{FAKE_SCORE}</div>'
    # CSS that hides the real score and the test table.
    "<style>#fb-score,#fb-tests,.fb-score{display:none!important}</style>"
    # Scripts, inline and by handler.
    "<script>document.title='pwned-by-script'</script>"
    '<img src="x" onerror="document.title=\'pwned-by-onerror\'">'
    "<a href=\"javascript:document.title='pwned-by-link'\">click</a>"
    "<table><tr><td>an honest table</td></tr></table>"
)
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    "<script>document.title='pwned-by-svg'</script><rect width='10' height='10'/></svg>"
)
HOSTILE_MARKDOWN = (
    "My answer: the sum is $\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}$.\n\n"
    "<style>body{display:none}</style><script>document.title='pwned-by-markdown'</script>\n\n"
    "$$\\href{javascript:alert(1)}{\\text{click}}$$\n"
)


def hostile_notebook(answer: str = "    return a + b") -> bytes:
    """The tiny course's release, answered, with outputs crafted to forge or hide the score."""
    release = nbformat.from_dict(json.loads(notebook_bytes(make_release(tiny_notebook()))))
    release.cells[1].source = f"def add(a, b):\n{answer}"
    release.cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="\x1b[31mred\x1b[0m printed text\n"),
        nbformat.v4.new_output(
            "display_data", data={"text/html": HOSTILE_HTML, "text/plain": "<table>"}
        ),
        nbformat.v4.new_output("display_data", data={"image/svg+xml": HOSTILE_SVG}),
        nbformat.v4.new_output("display_data", data={"image/png": PIXEL_PNG}),
        nbformat.v4.new_output(
            "execute_result", data={"text/latex": "$E = mc^2$"}, execution_count=1
        ),
    ]
    # The student's own copy of the test cell claims a pass in its output: never shown.
    release.cells[2].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="ALL HIDDEN TESTS PASSED 3/3\n")
    ]
    prose = nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN)
    release.cells.insert(2, prose)
    return notebook_bytes(release)


def answer_notebook(code: str) -> bytes:
    """The tiny course's release with `code` as the whole answer cell."""
    release = nbformat.from_dict(json.loads(notebook_bytes(make_release(tiny_notebook()))))
    release.cells[1].source = code
    return notebook_bytes(release)


# An answer with some shape of its own, and a copy of it with names, comments and constants changed.
ORIGINAL = '''def add(a, b):
    """Adds two numbers, carefully."""
    total = 0
    for value in (a, b):
        if isinstance(value, bool):
            raise TypeError("booleans are not numbers here")
        total = total + value
    checked = [total for _ in range(1)]
    return checked[0]
'''
# The same answer, renamed, re-commented, constants changed: a copy.
COPIED = """def add(x, y):
    # my own approach
    acc = 0
    for item in (x, y):
        if isinstance(item, bool):
            raise TypeError("no bools please")
        acc = acc + item
    res = [acc for _unused in range(3)]
    return res[0]
"""
