"""nbgrader's whole cell model, graded by real nbgrader and by the grader on the same files.

nbgrader's documentation course (problem set ps1, shipped inside the installed nbgrader package:
autograded answers and tests, written markdown answers, a task cell, a code answer that waits for
a person when it runs cleanly) and a notebook of our own with every cell type, submitted by two
students. One `nbgrader autograde` runs in the background while the grader grades the same
submissions; then per cell: which scored what, and which wait for a person.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import nbgrader
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import result as R
from grader.source import make_release

from .builders import nbg

pytestmark = pytest.mark.slow

DOCS = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
STUDENTS = ("bitdiddle", "hacker")
COURSE_ID = "kc-cell-model"


def everything_source() -> nbformat.NotebookNode:
    """Every nbgrader cell type: read-only prose and code, an autograded answer, tests (visible,
    hidden, partial credit), a code answer and a written answer graded by hand, and a task."""

    def meta(grade_id: str, **kw) -> dict:
        return nbg(grade_id, **kw)

    task = meta("explain_task", locked=True, points=2)
    task["nbgrader"]["task"] = True
    cells = [
        new_markdown_cell("# Circles\nRead-only prose.", metadata=meta("intro", locked=True)),
        new_code_cell("import math", metadata=meta("given", locked=True)),
        new_code_cell(
            "def area(r):\n    ### BEGIN SOLUTION\n    return math.pi * r * r\n    ### END SOLUTION",
            metadata=meta("area", solution=True),
        ),
        new_code_cell(
            "assert abs(area(1) - math.pi) < 1e-9",
            metadata=meta("test_area", grade=True, locked=True, points=2),
        ),
        new_code_cell(
            "assert area(0) == 0\n### BEGIN HIDDEN TESTS\nassert abs(area(2) - 4 * math.pi) < 1e-9"
            "\n### END HIDDEN TESTS",
            metadata=meta("test_area_hidden", grade=True, locked=True, points=1),
        ),
        new_code_cell(
            "score = 0.0\nif area(1) > 3:\n    score += 1.5\nscore",
            metadata=meta("test_partial", grade=True, locked=True, points=2),
        ),
        new_code_cell(
            "def perimeter(r):\n    ### BEGIN SOLUTION\n    return 2 * math.pi * r\n"
            "    ### END SOLUTION",
            metadata=meta("perimeter_by_hand", grade=True, solution=True, points=3),
        ),
        new_markdown_cell(
            "Why does the area grow with the square of the radius?",
            metadata=meta("question", locked=True),
        ),
        new_markdown_cell(
            "### BEGIN SOLUTION\nBecause both sides scale.\n### END SOLUTION",
            metadata=meta("essay", grade=True, solution=True, points=2),
        ),
        new_markdown_cell("Draw three circles on paper.", metadata=task),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def everything_submission(source: nbformat.NotebookNode, student: str) -> nbformat.NotebookNode:
    """bitdiddle hands the release in unchanged; hacker answers everything, and the code answer
    graded by hand raises (nbgrader still leaves it for a person)."""
    release = make_release(source)
    if student == "hacker":
        answers = {
            "area": "def area(r):\n    return math.pi * r ** 2",
            "perimeter_by_hand": "def perimeter(r):\n    raise ValueError('not yet')\nperimeter(1)",
            "essay": "Every length doubles, so the area is multiplied by four.",
        }
        for cell in release.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
    return release


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("nbgrader-course")
    (root / "source" / "ps1").mkdir(parents=True)
    for name in ("problem1.ipynb", "problem2.ipynb"):
        shutil.copy(DOCS / "source" / "ps1" / name, root / "source" / "ps1" / name)
        for student in STUDENTS:
            target = root / "submitted" / student / "ps1" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(DOCS / "submitted" / student / "ps1" / name, target)
    source = everything_source()
    nbformat.write(source, root / "source" / "ps1" / "everything.ipynb")
    for student in STUDENTS:
        path = root / "submitted" / student / "ps1" / "everything.ipynb"
        nbformat.write(everything_submission(source, student), path)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n"
        f"c.CourseDirectory.db_students = [{{'id': s}} for s in {STUDENTS!r}]\n"
    )
    return root


@pytest.fixture(scope="module")
def nbgrader_scores(course):
    """Start real nbgrader (generate_assignment, then autograde) now; wait for it on first use."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    nbg_cmd = str(bin_dir / "nbgrader")
    script = (
        f"{nbg_cmd} generate_assignment ps1 --force && "
        + " && ".join(f"{nbg_cmd} db student add {s}" for s in STUDENTS)
        + f" && {nbg_cmd} autograde ps1"
    )
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    holder: dict = {}

    def scores() -> dict:
        if not holder:
            out, _ = proc.communicate(timeout=600)
            assert proc.returncode == 0, out[-3000:]
            from nbgrader.api import Gradebook

            with Gradebook(f"sqlite:///{course}/gradebook.db", course_id=COURSE_ID) as gb:
                for student in STUDENTS:
                    for name in ("problem1", "problem2", "everything"):
                        nb = gb.find_submission_notebook(name, "ps1", student)
                        holder[(student, name)] = {
                            "score": nb.score,
                            "max_score": nb.max_score,
                            "cells": {g.name: g.auto_score for g in nb.grades},
                        }
        return holder

    yield scores
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def our_results(course, nbgrader_scores, worker):
    from grader.source import read_notebook

    results = {}
    for name in ("problem1", "problem2", "everything"):
        source = read_notebook(course / "source" / "ps1" / f"{name}.ipynb", f"{name}.ipynb")
        for student in STUDENTS:
            data = (course / "submitted" / student / "ps1" / f"{name}.ipynb").read_bytes()
            results[(student, name)] = worker.grade(source, data, name=f"{name}.ipynb")
    return results


def _as_nbgrader(cell: R.CellResult) -> float | None:
    """nbgrader's auto_score: None for a cell that waits for a person."""
    return None if cell.status == R.NEEDS_MANUAL else cell.points


@pytest.mark.parametrize("name", ["problem1", "problem2", "everything"])
@pytest.mark.parametrize("student", STUDENTS)
def test_grades_as_nbgrader_grades(our_results, nbgrader_scores, student, name):
    ours = our_results[(student, name)]
    theirs = nbgrader_scores()[(student, name)]
    assert {c.grade_id: _as_nbgrader(c) for c in ours.cells} == theirs["cells"]
    assert (ours.score, ours.max_score) == (theirs["score"], theirs["max_score"])
    # (The documentation's submissions were made from an older copy of the tests, which both
    # graders notice: nbgrader warns that the checksums changed, the grader flags the edit.)
    assert R.INVALID_SUBMISSION not in ours.flags
    assert not any("manual" in reason for reason in ours.reasons)
    assert "could not be rendered" not in ours.feedback_html  # the task cell crashed it


def test_every_cell_type_has_its_outcome(our_results):
    blank = {c.grade_id: c for c in our_results[("bitdiddle", "everything")].cells}
    answered = {c.grade_id: c for c in our_results[("hacker", "everything")].cells}
    # Unanswered answers score 0 by themselves; the task always waits for a person.
    assert blank["perimeter_by_hand"].status == R.FAILED
    assert "no response" in blank["perimeter_by_hand"].message
    assert blank["essay"].status == R.FAILED and blank["explain_task"].status == R.NEEDS_MANUAL
    # Answered: tests run, partial credit is kept, written answers wait, whatever the code did.
    assert [answered[g].points for g in ("test_area", "test_area_hidden", "test_partial")] == [
        2,
        1,
        1.5,
    ]
    for grade_id in ("perimeter_by_hand", "essay", "explain_task"):
        assert answered[grade_id].status == R.NEEDS_MANUAL, grade_id
    # Read-only and autograded answer cells carry no points of their own.
    assert set(answered) == {
        "test_area",
        "test_area_hidden",
        "test_partial",
        "perimeter_by_hand",
        "essay",
        "explain_task",
    }


def test_written_answers_only_are_not_reported_as_not_run(our_results):
    """problem2 has no code at all: every answer waits for a person (it said 'the kernel had
    stopped' and counted 0)."""
    cells = our_results[("hacker", "problem2")].cells
    assert [c.status for c in cells] == [R.NEEDS_MANUAL, R.NEEDS_MANUAL]
    assert all("kernel" not in c.message for c in cells)
