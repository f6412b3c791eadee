"""Small instructor sources and submissions built in the tests (no fixture files to keep in step)."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.source import make_release


def nbg(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {
        "solution": solution,
        "grade": grade,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_nb(answer: str, tests: list[str], answer_id: str = "answer") -> nbformat.NotebookNode:
    """An answer cell followed by test cells ``t1``, ``t2``... of 1 point each."""
    cells = [
        new_markdown_cell("# Exercise", metadata=nbg("intro", locked=True)),
        new_code_cell(
            f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION",
            metadata=nbg(answer_id, solution=True),
        ),
    ]
    for number, test in enumerate(tests, 1):
        cells.append(
            new_code_cell(test, metadata=nbg(f"t{number}", grade=True, locked=True, points=1))
        )
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def submission(source: nbformat.NotebookNode, answer: str, extra: list | None = None) -> bytes:
    """The release of ``source`` with the answer cell filled in (and ``extra`` cells appended)."""
    release = make_release(source)
    for cell in release.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answer
    release.cells.extend(extra or [])
    return nbformat.writes(release).encode()


def with_cells(data: bytes, edit) -> bytes:
    """Apply ``edit`` to the notebook's JSON (a dict) and serialise it again."""
    raw = json.loads(data)
    edit(raw)
    return json.dumps(raw).encode()
