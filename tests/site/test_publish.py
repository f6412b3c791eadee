"""publish_course: versions, idempotence, and every bad input named by file and cell."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from learning.manifest import ManifestError
from learning.models import CourseVersion
from learning.services.cohorts import move_cohort_to_version
from learning.services.publishing import publish_course
from tests.site.factories import MANIFEST, open_cohort, tiny_notebook, write_course

pytestmark = pytest.mark.django_db


def publish_tmp(tmp_path, manifest=MANIFEST, notebook=None):
    courses, notebooks = write_course(tmp_path, manifest, notebook)
    return publish_course("tiny", courses_dir=courses, notebooks_dir=notebooks)


def test_publish_stores_source_and_release(tmp_path):
    version = publish_tmp(tmp_path).version
    assignment = version.assignments.get()
    assert assignment.points == 3
    assert "return a + b" in assignment.source_notebook
    assert "return a + b" not in assignment.release_notebook
    assert "raise NotImplementedError()" in assignment.release_notebook
    assert "add(-1, 1)" in assignment.source_notebook
    assert "add(-1, 1)" not in assignment.release_notebook, "hidden tests must not reach students"


def test_unchanged_content_makes_no_new_version(tmp_path):
    nb = tiny_notebook()
    first = publish_tmp(tmp_path, notebook=nb)
    second = publish_tmp(tmp_path, notebook=nb)
    assert first.created and not second.created
    assert second.version.pk == first.version.pk
    assert CourseVersion.objects.count() == 1


def test_changed_content_makes_a_new_version_and_cohorts_stay(tmp_path):
    first = publish_tmp(tmp_path).version
    cohort = open_cohort(first.course)
    nb = tiny_notebook()
    nb.cells[0].source = "Write `add(a, b)`, which adds two numbers."
    second = publish_tmp(tmp_path, notebook=nb).version
    assert second.number == first.number + 1
    cohort.refresh_from_db()
    assert cohort.version_id == first.pk, "a running cohort stays on its version"
    move_cohort_to_version(cohort, second)
    cohort.refresh_from_db()
    assert cohort.version_id == second.pk


def bad(tmp_path, manifest=MANIFEST, notebook=None) -> str:
    with pytest.raises(ManifestError) as info:
        publish_tmp(tmp_path, manifest, notebook)
    assert CourseVersion.objects.count() == 0, "nothing is stored when publishing fails"
    return str(info.value)


def test_invalid_toml_names_the_manifest(tmp_path):
    message = bad(tmp_path, manifest=MANIFEST + "\n[[modules\n")
    assert "courses/tiny/course.toml" in message and "invalid TOML" in message


def test_missing_notebook_is_named(tmp_path):
    message = bad(tmp_path, manifest=MANIFEST.replace("tiny/add.ipynb", "tiny/missing.ipynb"))
    assert "notebooks/tiny/missing.ipynb" in message and "missing" in message


def test_duplicate_grade_ids_name_the_cell(tmp_path):
    nb = tiny_notebook()
    nb.cells[2].metadata["nbgrader"]["grade_id"] = "add-answer"
    message = bad(tmp_path, notebook=nb)
    assert "notebooks/tiny/add.ipynb" in message
    assert "cell 3" in message and "add-answer" in message and "cell 2" in message


def test_graded_cell_without_points(tmp_path):
    nb = tiny_notebook()
    del nb.cells[2].metadata["nbgrader"]["points"]
    message = bad(tmp_path, notebook=nb)
    assert "cell 3 (grade_id 'add-tests')" in message and "points" in message


def test_unclosed_solution_region(tmp_path):
    nb = tiny_notebook()
    nb.cells[1].source = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
    message = bad(tmp_path, notebook=nb)
    assert "cell 2 (grade_id 'add-answer')" in message and "END SOLUTION" in message


def test_unclosed_hidden_tests_region(tmp_path):
    nb = tiny_notebook()
    nb.cells[2].source = "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\nassert add(0, 0) == 0\n"
    message = bad(tmp_path, notebook=nb)
    assert "cell 3 (grade_id 'add-tests')" in message and "END HIDDEN TESTS" in message


def test_malformed_json_names_line(tmp_path):
    message = bad(tmp_path, notebook='{"cells": [ {"cell_type": "code",, }')
    assert "notebooks/tiny/add.ipynb" in message and "not valid notebook JSON" in message
    assert "line 1" in message


def test_nbformat_3_is_refused(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    message = bad(tmp_path, notebook=json.dumps(v3))
    assert "nbformat 3" in message and "notebooks/tiny/add.ipynb" in message


def test_points_must_match_the_manifest(tmp_path):
    message = bad(tmp_path, manifest=MANIFEST.replace("points = 3", "points = 5"))
    assert "total 3 points" in message and "gives assignment 'add' 5" in message


def test_notebook_path_cannot_escape(tmp_path):
    message = bad(tmp_path, manifest=MANIFEST.replace("tiny/add.ipynb", "../secret.ipynb"))
    assert "must stay inside notebooks/" in message


def test_command_reports_errors_and_fails(course_dirs, capsys):
    (course_dirs[0] / "tiny" / "course.toml").write_text("title = ")
    with pytest.raises(CommandError):
        call_command("publish_course", "tiny")
    assert "invalid TOML" in capsys.readouterr().err


def test_command_publishes_then_reports_unchanged(course_dirs, capsys):
    call_command("publish_course", "tiny")
    call_command("publish_course", "tiny")
    out = capsys.readouterr().out
    assert "Published tiny version 1" in out and "unchanged: still version 1" in out
