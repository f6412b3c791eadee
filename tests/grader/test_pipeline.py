"""Grading steps that need no kernel: sanitizing, scanning, scoring, rejecting, the CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import nbformat
import numpy
import pytest
from nbformat import NotebookNode

from grader import result as R
from grader.device import Device
from grader.execute import CellRun
from grader.pipeline import Context, PreparedSource, run_pipeline
from grader.sandbox import SandboxError, get_sandbox_class
from grader.sanitize import sanitize
from grader.scoring import CellVerdict, score_cell
from grader.tamper import canary_held, make_canary

from .conftest import ATTACKS, FIXTURES, TEST_LIMITS, build, fixture_bytes


@pytest.fixture(scope="module")
def prepared(source):
    return PreparedSource.build(source, "grader-source.ipynb")


def _sanitized(prepared, name):
    nb = nbformat.reads(fixture_bytes(name).decode(), as_version=4)
    return sanitize(nb, prepared.master, prepared.release)


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_untouched_submission_reports_no_tampering(prepared):
    nb, reasons = _sanitized(prepared, "correct")
    assert reasons == []
    assert "### BEGIN HIDDEN TESTS" in _cell(nb, "test_square").source  # hidden tests back in


def test_edited_test_cell_is_restored_and_reported(prepared):
    nb, reasons = _sanitized(prepared, "edit_test_cell")
    assert _cell(nb, "test_square").source == prepared.master.cells["test_square"].source
    assert any("'test_square'" in r and "changed" in r for r in reasons)


def test_deleted_test_cell_is_put_back_after_its_answer(prepared):
    nb, reasons = _sanitized(prepared, "delete_test_cell")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert ids.index("test_add") == ids.index("add") + 1
    assert any("'test_add' was deleted" in r for r in reasons)


def test_metadata_edits_are_reverted(prepared):
    nb, reasons = _sanitized(prepared, "edit_test_metadata")
    square = _cell(nb, "test_square")
    assert square.metadata.nbgrader["grade"] is True and square.metadata.nbgrader["points"] == 2
    assert _cell(nb, "test_speed").metadata.kernelcamp == {"requires_gpu": True}
    assert _cell(nb, "test_add").source == prepared.master.cells["test_add"].source
    assert any("'grade'" in r for r in reasons)


def test_raised_points_are_reset(prepared):
    nb, reasons = _sanitized(prepared, "raise_points")
    assert _cell(nb, "test_square").metadata.nbgrader["points"] == 2
    assert _cell(nb, "square").metadata.nbgrader["grade"] is False
    assert any("'points'" in r for r in reasons)


def test_invented_grade_cell_loses_its_metadata(prepared):
    nb, reasons = _sanitized(prepared, "fake_grade_cell")
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    assert "bonus" not in ids
    assert any("'bonus'" in r for r in reasons)


@pytest.mark.parametrize(
    ("name", "construct"),
    [
        ("input_transformer", "shell"),
        ("event_hook", "shell"),
        ("patch_numpy_testing", "monkeypatch"),
    ],
)
def test_scan_flags_known_cheats(prepared, name, construct):
    nb = nbformat.reads(fixture_bytes(name).decode(), as_version=4)
    hits = prepared.policy.check(
        [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    )
    assert any(h.construct == construct for h in hits), [h.reason for h in hits]


def test_scan_leaves_an_honest_answer_alone(prepared):
    nb = nbformat.reads(fixture_bytes("correct").decode(), as_version=4)
    student = [
        (i, c.source)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("locked")
    ]
    assert len(student) == 2
    assert prepared.policy.check(student) == []


def _exec_canary(code, namespace):
    try:
        exec(code, namespace)  # noqa: S102 - the canary is our own code
    except AssertionError as exc:
        return [NotebookNode(output_type="error", ename="AssertionError", evalue=str(exc))]
    return []


def test_canary_fails_in_an_honest_interpreter():
    for _ in range(5):
        assert canary_held(_exec_canary(make_canary().code, {}))


def test_canary_passes_when_assertions_are_neutered(monkeypatch):
    monkeypatch.setattr(numpy.testing, "assert_allclose", lambda *a, **k: None)
    monkeypatch.setattr(numpy.testing, "assert_array_equal", lambda *a, **k: None)
    assert not canary_held(_exec_canary(make_canary().code, {}))


def _graded_cell(points=3.0, requires_gpu=False, outputs=(), source="check()"):
    # A test cell ending in an expression: only such a cell can display a partial-credit result.
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "t",
        "points": points,
        "schema_version": 3,
    }
    if requires_gpu:
        cell.metadata["kernelcamp"] = {"requires_gpu": True}
    cell.outputs = [NotebookNode(o) for o in outputs]
    return cell


ERR = {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}


@pytest.mark.parametrize(
    ("outputs", "status", "points"),
    [
        ([], R.PASSED, 3.0),
        ([ERR], R.FAILED, 0.0),
        ([dict(ERR, ename="NameError")], R.ERROR, 0.0),
        ([{"output_type": "stream", "name": "stderr", "text": "warn"}], R.FAILED, 0.0),
        (
            [
                {
                    "output_type": "execute_result",
                    "data": {"text/plain": "1.5"},
                    "metadata": {},
                    "execution_count": 1,
                }
            ],
            R.PASSED,
            1.5,
        ),
    ],
)
def test_scores_follow_nbgrader_rules(outputs, status, points):
    scored = score_cell(_graded_cell(outputs=outputs), CellVerdict(CellRun("ok")), True)
    assert (scored.status, scored.points, scored.counted) == (status, points, True)


def test_gpu_cell_leaves_the_maximum_on_the_simulator():
    skip = {"output_type": "stream", "name": "stdout", "text": "KERNELCAMP-SKIP: timing\n"}
    cell = _graded_cell(requires_gpu=True, outputs=[skip])
    on_sim = score_cell(cell, CellVerdict(CellRun("ok")), simulator=True)
    assert (on_sim.status, on_sim.points, on_sim.counted) == (R.SKIPPED_ON_SIMULATOR, 0.0, False)
    assert "timing" in on_sim.message
    on_gpu = score_cell(cell, CellVerdict(CellRun("ok")), simulator=False)
    assert (on_gpu.status, on_gpu.points, on_gpu.counted) == (R.PASSED, 3.0, True)


def test_withheld_cell_earns_nothing():
    scored = score_cell(_graded_cell(), CellVerdict(CellRun("ok"), withheld=True), True)
    assert scored.points == 0 and "withheld" in scored.message


def _no_kernel():
    raise AssertionError("a rejected submission must not start a kernel")


def _grade_without_kernel(prepared, data, name="x.ipynb"):
    ctx = Context(
        prepared=prepared,
        submission=data,
        name=name,
        limits=TEST_LIMITS,
        device=Device("cuda-simulator"),
        get_kernel=_no_kernel,
        result=R.GradeResult(cells=[], score=0.0, max_score=0.0, device="cuda-simulator"),
    )
    return run_pipeline(ctx)


@pytest.mark.parametrize("name", ["malformed", "not_a_notebook", "nbformat3"])
def test_unreadable_submissions_are_rejected_with_a_reason(prepared, name):
    result = _grade_without_kernel(prepared, fixture_bytes(name), f"{name}.ipynb")
    assert result.score == 0 and result.max_score == 5
    assert R.INVALID_SUBMISSION in result.flags
    assert any(f"{name}.ipynb" in reason for reason in result.reasons)
    assert all(c.status in (R.NOT_RUN, R.SKIPPED_ON_SIMULATOR) for c in result.cells)


def test_fifty_megabyte_notebook_is_refused(prepared):
    nb = build.submission(build.CORRECT)
    nb.cells.append(nbformat.v4.new_markdown_cell("x" * (50 * 1024 * 1024)))
    data = nbformat.writes(nb).encode()
    assert len(data) > 50 * 1024 * 1024
    result = _grade_without_kernel(prepared, data, "big.ipynb")
    assert R.INVALID_SUBMISSION in result.flags and result.score == 0
    assert any("MB" in reason for reason in result.reasons)


def test_result_round_trips_through_json(prepared):
    result = _grade_without_kernel(prepared, fixture_bytes("malformed"))
    again = R.GradeResult.from_dict(json.loads(result.to_json()))
    assert again == result


def test_sandbox_registry():
    assert get_sandbox_class("process").name == "process"
    with pytest.raises(SandboxError):
        get_sandbox_class("kubernetes-job")


def test_grader_never_imports_django():
    code = (
        "import sys, grader, grader.__main__, grader.pipeline; assert 'django' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "grader", "grade", *args], capture_output=True, text=True
    )


def test_cli_rejects_a_bad_source(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{}")
    proc = _cli("--source", str(bad), "--submission", str(ATTACKS / "correct.ipynb"))
    assert proc.returncode == 4 and "bad.ipynb" in proc.stderr


def test_cli_reports_an_unreadable_submission_as_json():
    proc = _cli(
        "--source",
        str(FIXTURES / "grader-source.ipynb"),
        "--submission",
        str(ATTACKS / "malformed.ipynb"),
        "--json",
        "--device",
        "simulator",
    )
    assert proc.returncode == 3
    data = json.loads(proc.stdout)
    assert data["score"] == 0 and "invalid-submission" in data["flags"]


def test_prepared_source_keeps_hidden_tests_out_of_the_release(prepared):
    released = copy.deepcopy(prepared.release)
    text = nbformat.writes(released)
    assert "BEGIN HIDDEN TESTS" not in text and "square(-2)" not in text
