"""Instructor source notebooks: read, validate and turn into the student release.

Every error names the file and the cell, because an instructor fixing a course needs to know
where to look, not only what is wrong.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4.rwbase import rejoin_lines

from .limits import BOUNDS
from .protocol import json_depth_exceeds

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"

#: Larger notebooks are refused before parsing: they are almost always data pasted by mistake.
MAX_NOTEBOOK_BYTES = BOUNDS.max_notebook_bytes


class SourceError(ValueError):
    """A notebook that cannot be used, with the file and cell it concerns."""

    def __init__(self, path: str, message: str, cell: str | None = None) -> None:
        self.path = path
        self.cell = cell
        self.detail = message
        where = f"{path}, {cell}" if cell else path
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class GradedCell:
    grade_id: str
    index: int
    points: float
    requires_gpu: bool = False


@dataclass(frozen=True)
class SourceSummary:
    """What validation learned about a source notebook."""

    graded_cells: list[GradedCell] = field(default_factory=list)
    solution_ids: list[str] = field(default_factory=list)

    @property
    def total_points(self) -> float:
        return sum(cell.points for cell in self.graded_cells)


def describe_cell(index: int, cell: NotebookNode | dict) -> str:
    """A human name for a cell: its position (1-based, as Jupyter shows it) and grade id."""
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return f"cell {index + 1} (grade_id '{grade_id}')" if grade_id else f"cell {index + 1}"


def read_notebook(
    data: bytes | str | Path, name: str, max_bytes: int = MAX_NOTEBOOK_BYTES
) -> NotebookNode:
    """Parse notebook bytes (or a path), rejecting anything that is not a valid nbformat 4 file."""
    if isinstance(data, Path):
        try:
            data = data.read_bytes()
        except OSError as exc:
            raise SourceError(name, f"cannot be read ({exc.strerror})") from exc
    if isinstance(data, str):
        data = data.encode()
    if len(data) > max_bytes:
        raise SourceError(
            name,
            f"is {len(data) / 1e6:.1f} MB; notebooks over {max_bytes / 1e6:.0f} MB are refused",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(name, "is not a notebook: it is not UTF-8 text") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            name, f"is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise SourceError(name, "is not a notebook: its JSON nests too deeply") from exc
    except ValueError as exc:  # numbers too long to convert, and the like
        raise SourceError(name, f"is not valid notebook JSON ({exc})") from exc
    # Every later step (validation, copies, nbgrader) recurses: bound the depth before them.
    if json_depth_exceeds(raw, BOUNDS.max_notebook_depth):
        raise SourceError(
            name, f"is not a notebook: its JSON nests deeper than {BOUNDS.max_notebook_depth}"
        )
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SourceError(name, "is not a notebook: it has no cells")
    if not isinstance(raw.get("cells", []), list):
        raise SourceError(name, "is malformed: its cells are not a list")
    if len(raw.get("cells", [])) > BOUNDS.max_cells:
        raise SourceError(name, f"has more than {BOUNDS.max_cells} cells")
    major = raw.get("nbformat")
    if major != 4:
        raise SourceError(
            name,
            f"is nbformat {major}; only nbformat 4 is accepted "
            "(convert it with `jupyter nbconvert --to notebook --nbformat 4`)",
        )
    for index, cell in enumerate(raw.get("cells", [])):
        if not isinstance(cell, dict) or "cell_type" not in cell or "source" not in cell:
            raise SourceError(
                name, "is malformed: a cell lacks cell_type or source", f"cell {index + 1}"
            )
    # JSON stores sources as lists of lines; everything downstream (nbgrader's markers and
    # checksums included) works on strings, as nbformat.reads would give.
    try:
        nb = rejoin_lines(nbformat.from_dict(raw))
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        cell = _cell_of_validation_error(exc)
        raise SourceError(name, f"does not follow nbformat 4: {exc.message}", cell) from exc
    except Exception as exc:  # noqa: BLE001 - wrong types anywhere: a reason, never a crash
        raise SourceError(name, f"is malformed ({type(exc).__name__}: {exc})"[:300]) from exc
    return nb


def _cell_of_validation_error(exc: nbformat.ValidationError) -> str | None:
    path = list(getattr(exc, "absolute_path", []) or [])
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        return f"cell {path[1] + 1}"
    return None


def _regions(source: str, begin: str, end: str) -> str | None:
    """Return a problem with the begin/end markers of a region kind, or None when they pair up."""
    inside = False
    for line in source.splitlines():
        if begin in line:
            if inside:
                return f"has a nested '{begin}' (the previous region is not closed)"
            inside = True
        elif end in line:
            if not inside:
                return f"has '{end}' without a matching '{begin}'"
            inside = False
    return f"has '{begin}' without a matching '{end}'" if inside else None


def validate_source(nb: NotebookNode, name: str) -> SourceSummary:
    """Check nbgrader metadata and solution/hidden-test regions of every cell."""
    seen_ids: dict[str, int] = {}
    graded: list[GradedCell] = []
    solutions: list[str] = []
    for index, cell in enumerate(nb.cells):
        where = describe_cell(index, cell)
        meta = cell.metadata.get("nbgrader")
        source = cell.source
        for begin, end in ((SOLUTION_BEGIN, SOLUTION_END), (HIDDEN_BEGIN, HIDDEN_END)):
            problem = _regions(source, begin, end)
            if problem:
                raise SourceError(name, problem, where)
        if meta is None:
            if SOLUTION_BEGIN in source:
                raise SourceError(
                    name, "has a solution region but is not marked as an answer cell", where
                )
            if HIDDEN_BEGIN in source:
                raise SourceError(
                    name, "has hidden tests but is not marked as a graded cell", where
                )
            continue
        if not isinstance(meta, dict):
            raise SourceError(name, "has nbgrader metadata that is not a mapping", where)
        is_grade = bool(meta.get("grade"))
        is_solution = bool(meta.get("solution"))
        is_task = bool(meta.get("task"))
        if not (is_grade or is_solution or is_task or meta.get("locked")):
            continue
        grade_id = meta.get("grade_id")
        if not grade_id or not isinstance(grade_id, str):
            raise SourceError(name, "is an nbgrader cell without a grade_id", where)
        if grade_id in seen_ids:
            raise SourceError(
                name,
                f"repeats grade_id '{grade_id}' already used by cell {seen_ids[grade_id] + 1}",
                where,
            )
        seen_ids[grade_id] = index
        if is_grade or is_task:
            points = meta.get("points")
            if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
                raise SourceError(
                    name, f"is graded but has no positive points (points = {points!r})", where
                )
            requires_gpu = bool(cell.metadata.get("kernelcamp", {}).get("requires_gpu"))
            graded.append(GradedCell(grade_id, index, float(points), requires_gpu))
        if HIDDEN_BEGIN in source and not is_grade:
            raise SourceError(name, "has hidden tests but is not marked as a graded cell", where)
        if SOLUTION_BEGIN in source and not is_solution:
            raise SourceError(
                name, "has a solution region but is not marked as an answer cell", where
            )
        if is_solution:
            solutions.append(grade_id)
    if not graded:
        raise SourceError(name, "has no graded cells: mark at least one test cell with points")
    return SourceSummary(graded_cells=graded, solution_ids=solutions)


def _release_pipeline() -> list:
    # Imported here so that reading and validating notebooks stays cheap for callers that do
    # not release (the grading worker, the site's upload form).
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    return [
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        CheckCellMetadata(),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
    ]


def make_release(nb: NotebookNode, name: str = "notebook") -> NotebookNode:
    """The student version: solutions stubbed, hidden tests and outputs removed, cells locked.

    Uses nbgrader's own preprocessors so the release is exactly what `nbgrader generate_assignment`
    would give, minus its database bookkeeping.
    """
    validate_source(nb, name)
    release = copy.deepcopy(nb)
    resources: dict = {}
    for step in _release_pipeline():
        try:
            release, resources = step.preprocess(release, resources)
        except Exception as exc:  # nbgrader raises bare RuntimeError/ValidationError
            raise SourceError(name, f"could not be released: {exc}") from exc
    return release


def notebook_bytes(nb: NotebookNode) -> bytes:
    """Canonical serialisation, so equal notebooks hash equally."""
    return (nbformat.writes(nb, version=4) + "\n").encode()
