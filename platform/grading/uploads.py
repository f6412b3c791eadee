"""Checking a handed-in file before it is stored: only a notebook of the assignment may count.

Every refusal carries a reason the student can act on, in their language. The grader checks
again (it never trusts the site), but a file refused here is never stored, so it can neither be
graded 0 nor replace a grade that counts.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _

#: How many missing cells a refusal names before it says "and N more".
MISSING_CELLS_SHOWN = 5
#: More cells than any course notebook has; beyond it schema validation alone takes seconds.
MAX_CELLS = 2000


class InvalidUpload(ValueError):
    """The file is not a notebook of the assignment; the message says why (translated)."""


def nbgrader_ids(notebook_json: dict) -> tuple[list[str], list[str]]:
    """(every nbgrader grade_id, the ids of graded cells) of a notebook, in order."""
    all_ids, graded_ids = [], []
    for cell in notebook_json.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") if isinstance(cell, dict) else None
        if not isinstance(meta, dict):
            continue
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str) or not grade_id:
            continue
        if meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"):
            all_ids.append(grade_id)
            if meta.get("grade") or meta.get("task"):
                graded_ids.append(grade_id)
    return all_ids, graded_ids


def _parse(data: bytes) -> dict:
    if not data:
        raise InvalidUpload(_("The file is empty."))
    limit = settings.KC_MAX_SUBMISSION_BYTES
    if len(data) > limit:
        raise InvalidUpload(
            _(
                "The file is %(size).1f MB; the limit is %(limit).0f MB. Clear large outputs and try again."
            )
            % {"size": len(data) / 1e6, "limit": limit / 1e6}
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUpload(
            _("This file is not a notebook: it is not text. Upload the .ipynb file.")
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidUpload(
            _(
                "This file is not a notebook: it is not valid JSON (line %(line)d, column %(column)d)."
            )
            % {"line": exc.lineno, "column": exc.colno}
        ) from None
    except RecursionError:
        raise InvalidUpload(
            _("This file is not a notebook: its JSON is nested too deeply.")
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise InvalidUpload(_("This file is not a notebook: it has no list of cells."))
    if raw.get("nbformat") != 4:
        raise InvalidUpload(
            _(
                "This notebook is in format %(major)s; only format 4 (Jupyter's current one) is accepted."
            )
            % {"major": raw.get("nbformat")}
        )
    return raw


def _without_outputs(raw: dict) -> dict:
    """The notebook as the schema sees it, outputs left out: the grader runs the code again and
    ignores them, and validating 100,000 outputs costs a web worker 20 s."""
    light = dict(raw)
    light["cells"] = []
    for index, cell in enumerate(raw["cells"]):
        if not isinstance(cell, dict):
            light["cells"].append(cell)  # the schema names the cell
            continue
        if cell.get("cell_type") == "code":
            if not isinstance(cell.get("outputs"), list):
                raise InvalidUpload(
                    _("This notebook is damaged: %(where)s%(problem)s")
                    % {"where": _("cell %(n)d: ") % {"n": index + 1}, "problem": "outputs"}
                )
            cell = {**cell, "outputs": []}
        light["cells"].append(cell)
    return light


def _validate_format(raw: dict) -> None:
    import nbformat

    if len(raw["cells"]) > MAX_CELLS:
        raise InvalidUpload(
            _("This notebook has %(n)d cells; at most %(max)d are accepted.")
            % {"n": len(raw["cells"]), "max": MAX_CELLS}
        )
    light = _without_outputs(raw)
    try:
        nbformat.validate(nbformat.from_dict(light))
    except nbformat.ValidationError as exc:
        path = list(getattr(exc, "absolute_path", []) or [])
        where = (
            _("cell %(n)d: ") % {"n": path[1] + 1}
            if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int)
            else ""
        )
        raise InvalidUpload(
            _("This notebook is damaged: %(where)s%(problem)s")
            % {"where": where, "problem": exc.message[:300]}
        ) from None
    except (RecursionError, ValueError, TypeError, AttributeError):
        raise InvalidUpload(_("This notebook is damaged: it does not follow format 4.")) from None


def check_upload(data: bytes, release_notebook: str, assignment_title: str) -> None:
    """Raise InvalidUpload unless `data` is a valid nbformat 4 notebook of this assignment.

    "Of this assignment" means: it holds every nbgrader cell (answer, test and locked cells, by
    grade_id) of the student release; a notebook with none of the graded cells is another
    assignment's.
    """
    raw = _parse(data)
    _validate_format(raw)
    expected, expected_graded = nbgrader_ids(json.loads(release_notebook))
    present = set(nbgrader_ids(raw)[0])
    if expected_graded and not present.intersection(expected_graded):
        raise InvalidUpload(
            _(
                "This is not the notebook of “%(title)s”: it has none of its graded cells. "
                "Did you upload another assignment? Download this assignment's notebook and "
                "work in it."
            )
            % {"title": assignment_title}
        )
    missing = [grade_id for grade_id in expected if grade_id not in present]
    if missing:
        shown = ", ".join(missing[:MISSING_CELLS_SHOWN])
        if len(missing) > MISSING_CELLS_SHOWN:
            shown += " " + _("and %(n)d more") % {"n": len(missing) - MISSING_CELLS_SHOWN}
        raise InvalidUpload(
            _(
                "Cells of the assignment are missing from this notebook: %(cells)s. "
                "Put them back (copy them from a fresh download of the notebook) and submit again."
            )
            % {"cells": shown}
        )
