"""nbgrader's grading rule for a test cell, on outputs reduced to plain data.

nbgrader's ``determine_grade`` returns at a cell's *first* ``execute_result`` (partial credit),
before looking at any later error, and awards full points when that result is not a number. Code
the student wrote can publish an ``execute_result`` from inside a test cell (``sys.displayhook``
called from their function), so under that rule a failing test could still earn points. Here:

- an error or any stderr output anywhere in the cell scores 0 (nbgrader's rule, without the early
  return);
- an ``execute_result`` counts only when the instructor's test cell ends with an expression (only
  then can the test itself produce one), and only the last one (the test's own, which comes after
  anything the student's code published); other results are ignored;
- its ``text/plain`` is read as a plain decimal number; a value outside ``[0, points]`` scores 0
  with a note instead of raising; a non-number keeps nbgrader's full credit.

For honest notebooks the points are exactly nbgrader's.
"""

from __future__ import annotations

import ast
import re

from nbformat import NotebookNode
from nbgrader import utils

from .pyparse import parse

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def ends_with_expression(source: str) -> bool:
    """Whether running ``source`` in IPython can display a result of its own."""
    try:
        tree = parse(source)
    except SyntaxError:
        return False
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return False
    value = tree.body[-1].value
    # print(...) returns None, which IPython does not display.
    return not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "print"
    )


def _text(output: NotebookNode) -> str:
    text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def determine_grade(cell: NotebookNode) -> tuple[float | None, str]:
    """(points or None for a manual grade, a note for the student when a rule applied)."""
    if not utils.is_grade(cell) or utils.is_solution(cell) or cell.cell_type != "code":
        points, _ = utils.determine_grade(cell)
        return points, ""
    max_points = float(cell.metadata.nbgrader["points"])
    outputs = cell.get("outputs", [])
    for output in outputs:
        if output.output_type == "error" or (
            output.output_type == "stream" and output.get("name") == "stderr"
        ):
            return 0.0, ""
    results = [o for o in outputs if o.output_type == "execute_result"]
    if not results:
        return max_points, ""
    if not ends_with_expression(cell.source):
        return max_points, (
            "a result displayed from inside the tested code was ignored (the test computes none)"
        )
    text = _text(results[-1])
    if not _NUMBER.match(text):
        return max_points, ""
    value = float(text)
    if 0.0 <= value <= max_points:
        return value, ""
    return 0.0, f"the test's partial credit {text.strip()[:40]} is outside 0..{max_points:g}"
