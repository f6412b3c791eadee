"""Both courses publish; every reference earns full marks and every blank release zero, under the
simulator; a half-done notebook per course earns partial credit."""

import threading
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import grader
from grader.source import make_release, notebook_bytes, read_notebook, validate_source

REPO = Path(__file__).resolve().parents[2]
COURSES = ("cuda-numba", "pytorch-gpu")


def course_notebooks(course: str) -> list[str]:
    manifest = tomllib.loads((REPO / "courses" / course / "course.toml").read_text())
    return [a["notebook"] for m in manifest["modules"] for a in m.get("assignments", [])]


ALL_NOTEBOOKS = [nb for course in COURSES for nb in course_notebooks(course)]


def test_course_sizes():
    assert len(course_notebooks("cuda-numba")) >= 14
    assert len(course_notebooks("pytorch-gpu")) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize("course", [*COURSES, "kernelcamp-demo"])
def test_course_publishes(course, settings):
    from learning.services.publishing import publish_course

    settings.KC_COURSES_DIR = REPO / "courses"
    settings.KC_NOTEBOOKS_DIR = REPO / "notebooks"
    version = publish_course(course).version
    assert version.assignments.count() == len(course_notebooks(course))
    assert all(a.points > 0 for a in version.assignments.all())


def source_of(relative: str):
    return read_notebook(REPO / "notebooks" / relative, f"notebooks/{relative}")


def reference_submission(source) -> bytes:
    """What a student who wrote the reference solutions hands in: the release's cells, with the
    answer cells holding the instructor's solutions."""
    release = make_release(source)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.cells}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in by_id:
            cell.source = by_id[meta["grade_id"]].source
    return notebook_bytes(release)


def simulator_maximum(source) -> float:
    summary = validate_source(source, "source")
    return sum(cell.points for cell in summary.graded_cells if not cell.requires_gpu)


@pytest.fixture(scope="session")
def curriculum_grades(request):
    """The reference and the blank release of every selected notebook, graded by two workers
    at once: a kernel runs a notebook on one core, so two keep a 2-core machine busy. Each
    test then checks its own notebook's results."""
    selected = sorted(
        {
            item.callspec.params["relative"]
            for item in request.session.items
            if item.originalname == "test_reference_full_marks_and_blank_zero"
        }
    )
    local = threading.local()
    workers: list[grader.Worker] = []

    def worker() -> grader.Worker:
        if not hasattr(local, "worker"):
            local.worker = grader.Worker(grader.Limits(), device="simulator")
            workers.append(local.worker)
        return local.worker

    def grade_pair(relative: str):
        source = source_of(relative)
        reference = worker().grade(source, reference_submission(source), name="reference.ipynb")
        blank = worker().grade(source, notebook_bytes(make_release(source)), name="blank.ipynb")
        return reference, blank

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="curriculum")
    futures = {relative: pool.submit(grade_pair, relative) for relative in selected}
    yield futures
    pool.shutdown(wait=True)
    for w in workers:
        w.close()


@pytest.mark.slow
@pytest.mark.parametrize("relative", ALL_NOTEBOOKS)
def test_reference_full_marks_and_blank_zero(relative, curriculum_grades):
    source = source_of(relative)
    reference, blank = curriculum_grades[relative].result()
    expected = simulator_maximum(source)
    failing = [
        (c.grade_id, c.status, c.message[-300:])
        for c in reference.cells
        if c.counted and c.points < c.max_points
    ]
    assert reference.max_score == expected and reference.score == expected, failing
    assert reference.device == "cuda-simulator"
    assert not set(reference.flags) & {"review-needed", "tampered-test-cell", "kernel-killed"}, (
        reference.reasons
    )
    skipped = [c for c in reference.cells if c.status == "skipped-on-simulator"]
    assert all(not c.counted for c in skipped), "GPU-only cells never count on the simulator"

    assert blank.score == 0 and blank.max_score == expected
    assert "invalid-submission" not in blank.flags


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "relative"),
    [
        ("cuda-numba-partial.ipynb", "cuda-numba/01-threads-and-maps.ipynb"),
        ("pytorch-gpu-partial.ipynb", "pytorch-gpu/01-tensors-and-devices.ipynb"),
    ],
)
def test_half_done_notebook_earns_partial_credit(fixture, relative):
    source = source_of(relative)
    partial = (REPO / "tests" / "fixtures" / "curriculum" / fixture).read_bytes()
    result = grader.grade(source, partial)
    assert 0 < result.score < result.max_score, [(c.grade_id, c.status) for c in result.cells]
    # the fixture is a submission of the current release: a stale one is flagged as tampered
    assert "tampered-test-cell" not in result.flags, result.reasons
