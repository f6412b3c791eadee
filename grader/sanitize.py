"""Make the submission safe to grade: the instructor's cells and metadata win over the student's.

Uses nbgrader's ClearOutput, OverwriteCells and CheckCellMetadata (duplicated ids are handled
here rather than by DeduplicateIds, which keeps the last copy and empties the others' metadata,
after which CheckCellMetadata rejects the notebook). OverwriteCells
normally reads the instructor's cells from nbgrader's SQL gradebook; here it reads them from an
in-memory view of the source notebook built the way ``nbgrader generate_assignment`` records them
(LockCells, ClearSolutions, ClearOutput, ComputeChecksums, hidden tests kept).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
    OverwriteCells,
)


def _grade_id(cell: NotebookNode) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
        return meta["grade_id"]
    return None


@dataclass
class Master:
    """The instructor's view of the assignment, as nbgrader's gradebook would hold it."""

    nb: NotebookNode
    #: grade_id -> master cell (locked cells keep their hidden tests).
    cells: dict[str, NotebookNode] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @classmethod
    def from_source(cls, source: NotebookNode) -> Master:
        nb = copy.deepcopy(source)
        resources: dict = {}
        for step in (LockCells(), ClearSolutions(), ClearOutput(), ComputeChecksums()):
            nb, resources = step.preprocess(nb, resources)
        master = cls(nb)
        for cell in nb.cells:
            grade_id = _grade_id(cell)
            if grade_id and (
                utils.is_grade(cell)
                or utils.is_solution(cell)
                or utils.is_locked(cell)
                or utils.is_task(cell)
            ):
                master.cells[grade_id] = cell
                master.order.append(grade_id)
        return master

    def is_protected(self, grade_id: str) -> bool:
        """Cells the student may not change: tests and locked given code or prose."""
        return utils.is_locked(self.cells[grade_id])


class _MemoryGradebook:
    """The part of nbgrader.api.Gradebook that OverwriteCells calls, answered from Master."""

    def __init__(self, master: Master) -> None:
        self.master = master

    def __enter__(self) -> _MemoryGradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _cell(self, name: str) -> NotebookNode:
        try:
            return self.master.cells[name]
        except KeyError:
            raise MissingEntry() from None

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        cell = self._cell(name)
        return SimpleNamespace(
            name=name,
            cell_type=cell.cell_type,
            locked=utils.is_locked(cell),
            checksum=cell.metadata.nbgrader["checksum"],
            source=cell.source,
        )

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        cell = self._cell(name)
        if not utils.is_grade(cell):
            raise MissingEntry()
        return SimpleNamespace(name=name, max_score=float(cell.metadata.nbgrader["points"]))


class OverwriteFromSource(OverwriteCells):
    """nbgrader's OverwriteCells, with the gradebook lookups answered from memory."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = "submission"
        self.assignment_id = "assignment"
        self.gradebook = _MemoryGradebook(resources["kernelcamp_master"])
        return Preprocessor.preprocess(self, nb, resources)


_TRACKED_KEYS = ("grade", "solution", "locked", "points", "task")


def sanitize(
    nb: NotebookNode, master: Master, release: NotebookNode, notes: list[str] | None = None
) -> tuple[NotebookNode, list[str]]:
    """Return the notebook to execute and the tampering found (one reason per line).

    ``release`` is what the student was given; a protected cell that differs from it, or is
    missing, was tampered with. Honest oddities that change nothing (a copy-pasted cell) are
    appended to ``notes`` instead.
    """
    reasons: list[str] = []
    resources: dict = {"kernelcamp_master": master}
    nb, resources = ClearOutput().preprocess(nb, resources)
    released = {_grade_id(c): c for c in release.cells if _grade_id(c)}
    for note in _keep_first_copies(nb):
        if notes is not None:
            notes.append(note)

    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("kernelcamp", None)  # only the source decides requires_gpu
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        grade_id = _grade_id(cell)
        if grade_id is None or grade_id not in master.cells:
            if isinstance(meta, dict) and (meta.get("grade") or meta.get("locked")):
                reasons.append(
                    f"cell {index + 1} claims to be graded cell {grade_id!r}, "
                    "which is not in the assignment"
                )
            del cell.metadata["nbgrader"]
            continue
        given = released.get(grade_id)
        if given is not None and master.is_protected(grade_id) and cell.source != given.source:
            reasons.append(f"cell {grade_id!r} is a locked cell and its code was changed")
        for key in _TRACKED_KEYS:
            expected = master.cells[grade_id].metadata.nbgrader.get(key)
            if (
                key in meta
                and meta.get(key) != expected
                and not (key == "points" and _same_points(meta.get(key), expected))
            ):
                reasons.append(
                    f"cell {grade_id!r}: metadata {key!r} was changed "
                    f"from {expected!r} to {meta.get(key)!r}"
                )

    # Metadata first: nbgrader's checksum covers grade/locked/points, so OverwriteCells could
    # not repair a cell whose flags were edited.
    _restore_metadata(nb, master)
    nb, resources = OverwriteFromSource().preprocess(nb, resources)
    reasons.extend(_restore_missing(nb, master))
    nb, resources = CheckCellMetadata().preprocess(nb, resources)
    return nb, reasons


def _keep_first_copies(nb: NotebookNode) -> list[str]:
    """A cell copied and pasted carries the same grade id twice. nbgrader's DeduplicateIds
    empties the metadata of all copies but the last, and CheckCellMetadata then rejects the
    whole notebook; here the first copy keeps its identity (it is the one graded), later copies
    become ordinary cells that still run in their place, and a note says so."""
    notes = []
    first: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        if grade_id in first:
            del cell.metadata["nbgrader"]
            notes.append(
                f"cell {index + 1} is a copy of cell {first[grade_id] + 1} ({grade_id!r}): "
                "the first one counts, the copy runs as ordinary code"
            )
        else:
            first[grade_id] = index
    return notes


def _same_points(a: object, b: object) -> bool:
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _restore_metadata(nb: NotebookNode, master: Master) -> None:
    """Every cell that is in the source gets the source's nbgrader and kernelcamp metadata."""
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        source = master.cells[grade_id]
        cell.metadata["nbgrader"] = copy.deepcopy(source.metadata.nbgrader)
        if "kernelcamp" in source.metadata:
            cell.metadata["kernelcamp"] = copy.deepcopy(source.metadata.kernelcamp)


def _restore_missing(nb: NotebookNode, master: Master) -> list[str]:
    """Put back protected cells the student deleted, after the source cell that precedes them."""
    reasons = []
    present = {_grade_id(c) for c in nb.cells}
    for position, grade_id in enumerate(master.order):
        if grade_id in present or not master.is_protected(grade_id):
            continue
        reasons.append(f"cell {grade_id!r} was deleted; the grader put it back")
        insert_at = 0
        for previous in reversed(master.order[:position]):
            indices = [i for i, c in enumerate(nb.cells) if _grade_id(c) == previous]
            if indices:
                insert_at = indices[0] + 1
                break
        nb.cells.insert(insert_at, copy.deepcopy(master.cells[grade_id]))
        present.add(grade_id)
    return reasons
