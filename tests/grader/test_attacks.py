"""Each attack notebook against the fixture source, in a real sandboxed kernel.

For each: the score is no more than the work earns, the reason is recorded, the grader survives,
and the next honest submission still gets full marks.
"""

from __future__ import annotations

import copy
import os
import re
import stat
from pathlib import Path

import pytest

from grader import result as R

from .conftest import TEST_LIMITS, build, fixture_bytes, sandbox_uids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def showing_source(source):
    """The fixture source with every output shown: these tests read what the attack's later
    cells printed (fork counts, refusals), which rule 3 of grader/hidden.py hides otherwise."""
    shown = copy.deepcopy(source)
    shown.metadata.setdefault("kernelcamp", {})["show_outputs_after_hidden_tests"] = True
    return shown


@pytest.fixture
def grade(worker, showing_source):
    """Grade an attack, then check that an honest submission right after still scores 5/5."""
    source = showing_source

    def run(data, name="attack.ipynb"):
        result = worker.grade(source, data, name=name)
        assert result.max_score == 5  # the GPU-only cell never counts on the simulator
        honest = worker.grade(source, fixture_bytes("correct"), name="correct.ipynb")
        assert (honest.score, honest.flags) == (5, [])
        return result

    return run


def test_infinite_python_loop_is_interrupted(grade):
    r = grade(fixture_bytes("infinite_loop"))
    assert r.cell("test_square").status == R.TIMEOUT
    assert r.cell("test_add").status == R.PASSED  # the kernel survived the interrupt
    assert r.score == 3


def test_simulated_cuda_loop_is_stopped_and_keeps_earned_points(grade):
    # The interrupt now ends the simulator's threads too, so the kernel usually survives for the
    # later cells (tests/grader/test_sandbox_interrupt.py); on a very busy machine the executor's
    # wall-clock grace can still run out first and the kernel is killed: the score is the same.
    r = grade(fixture_bytes("cuda_infinite_loop"))
    assert r.cell("test_square").points == 2
    assert r.cell("test_add").status == R.TIMEOUT
    assert r.score == 2


def test_a_simulated_loop_before_the_tests_is_stopped_with_its_threads(grade):
    # The interrupt ends the cell and the simulator's block threads with it (they would slow
    # every later cell by however much the machine allows), so the later, independent tests
    # run in the same kernel and keep their points (issue 9, item 5), as under nbgrader.
    spin = (
        "import numpy\nfrom numba import cuda\n\n@cuda.jit\ndef spin(x):\n"
        "    while True:\n        pass\n\nspin[1, 4](numpy.zeros(1))"
    )
    r = grade(build.submission(build.CORRECT, extra=[(1, spin)]))
    assert r.score == 5 and R.KERNEL_KILLED not in r.flags, r.reasons
    assert {r.cell(g).status for g in ("test_square", "test_add")} == {R.PASSED}


def test_memory_bomb_is_capped(grade):
    r = grade(fixture_bytes("memory_bomb"))
    assert r.cell("test_square").status == R.ERROR
    assert "MemoryError" in r.cell("test_square").message
    assert r.score == 3


def test_memory_spread_over_processes_is_capped_in_total(grade):
    # Each child stays far below the per-process limit; together they are above the memory a
    # submission may use. Only a control group sees the total.
    hog = (
        "import os, time\nprint(open('/proc/self/cgroup').read())\npids = []\n"
        "for _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n"
        "        hog = b'\\x01' * (600 * 2**20)\n        time.sleep(0.5)\n        os._exit(0)\n"
        "    pids.append(pid)\nfor pid in pids:\n    _, status = os.waitpid(pid, 0)\n"
        "    print('CHILD', -os.WTERMSIG(status) if os.WIFSIGNALED(status) else status)"
    )
    r = grade(build.submission(build.CORRECT, extra=[(1, hog)]))
    html, log = re.sub(r"<[^>]+>", "", r.feedback_html), "\n".join(r.log)
    if os.geteuid() != 0:
        assert "no memory cgroup" in log
        return
    assert "kernelcamp-sandbox/k-" in html, "the kernel is not in its own cgroup"
    killed_children = "CHILD -9" in html
    killed_kernel = "used all the memory a submission may use" in " ".join(r.reasons)
    assert killed_children or killed_kernel, html[-3000:]
    assert "CHILD 0\nCHILD 0\nCHILD 0" not in html
    assert r.score <= 5


def test_fork_bomb_is_contained_and_cleaned_up(grade, worker):
    # Graders elsewhere on the machine may hold sandbox uids of their own; only ours count.
    before = sandbox_uids()
    r = grade(fixture_bytes("fork_bomb"))
    assert r.score <= 5
    log = "\n".join(r.log)
    assert "cell 4" in log
    if os.geteuid() == 0:
        # What is left alive is the worker's next warm kernel, whichever slot it took.
        warm = worker._next.result().slot.uid
        assert sandbox_uids() - before <= {warm}
    assert r.feedback_html.count("FORKS") >= 1
    forks = int(r.feedback_html.split("FORKS ", 1)[1].split()[0])
    assert forks < TEST_LIMITS.max_processes


def test_gigabyte_of_output_is_cut(grade):
    r = grade(fixture_bytes("huge_output"))
    assert R.OUTPUT_TRUNCATED in r.flags
    assert len(r.feedback_html) < 2 * 1024 * 1024
    assert r.score == 5  # the answers are right; the noise earns nothing extra


def test_huge_file_stops_at_the_file_size_limit(grade):
    r = grade(fixture_bytes("huge_file"))
    assert "File too large" in r.feedback_html or "No space left" in r.feedback_html
    assert r.score == 5


def test_network_is_unreachable(grade):
    r = grade(fixture_bytes("socket"))
    html = r.feedback_html
    assert "RAW-CONNECT -1 101" in html  # ENETUNREACH from the empty network namespace
    assert "network access is disabled" in html


def test_files_outside_the_kernel_are_unreadable(worker, source, grade):
    # The platform's files as they would lie on a server: a root-only settings file with a
    # secret, a database, another student's submission, and the instructor source in a
    # world-readable course directory that the sandbox hides.
    base = Path("/var/tmp") / f"kc-attack-{os.getpid()}"
    secret_dir, course_dir = base / "secret", base / "course"
    secret_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    course_dir.mkdir(mode=0o755, exist_ok=True)
    os.chmod(base, 0o755)
    files = {
        secret_dir / "settings.py": "SECRET_KEY = 'kc-secret-9f1e'\n",
        secret_dir / "db.sqlite3": "kc-database-7a2c",
        secret_dir / "other-student.ipynb": "kc-other-student-3b4d",
        course_dir / "source.ipynb": "kc-hidden-tests-5e6f",
    }
    for path, text in files.items():
        path.write_text(text)
        os.chmod(path, 0o644 if path.parent == course_dir else 0o600)
    assert stat.S_IMODE(course_dir.stat().st_mode) == 0o755
    # The course directory is world-readable but outside the sandbox's filesystem view.
    try:
        reads = "\n".join(
            f"try:\n    print(open({str(p)!r}).read())\nexcept OSError as e:\n    print('DENIED', e)"
            for p in [*files, Path("/proc/1/environ"), Path(__file__).parents[2] / "pyproject.toml"]
        )
        r = grade(build.nbformat.writes(build.submission(build.CORRECT, extra=[(3, reads)])))
    finally:
        for path in files:
            path.unlink()
    text = r.to_json()
    for secret in (
        "kc-secret-9f1e",
        "kc-database-7a2c",
        "kc-other-student-3b4d",
        "kc-hidden-tests",
    ):
        assert secret not in text
    assert r.feedback_html.count("DENIED") >= 5
    assert r.score == 5


def test_edited_test_cell_is_restored(grade):
    r = grade(fixture_bytes("edit_test_cell"))
    assert r.cell("test_square").status == R.FAILED
    assert R.TAMPERED_TEST_CELL in r.flags and R.REVIEW_NEEDED in r.flags
    assert r.score == 3


def test_deleted_test_cell_still_runs(grade):
    r = grade(fixture_bytes("delete_test_cell"))
    assert r.cell("test_add").status == R.FAILED
    assert R.TAMPERED_TEST_CELL in r.flags
    assert r.score == 2


def test_edited_test_metadata_is_ignored(grade):
    r = grade(fixture_bytes("edit_test_metadata"))
    assert r.score == 0
    assert r.cell("test_speed").status == R.SKIPPED_ON_SIMULATOR
    assert R.TAMPERED_TEST_CELL in r.flags


@pytest.mark.parametrize("name", ["raise_points", "fake_grade_cell"])
def test_points_cannot_be_raised(grade, name):
    r = grade(fixture_bytes(name))
    assert (r.score, r.max_score) == (5, 5)
    assert [c.grade_id for c in r.cells] == ["test_square", "test_add", "test_speed"]
    assert R.TAMPERED_TEST_CELL in r.flags


@pytest.mark.parametrize("name", ["input_transformer", "event_hook", "patch_numpy_testing"])
def test_in_kernel_cheats_earn_nothing_and_are_flagged(grade, name):
    r = grade(fixture_bytes(name))
    assert r.score == 0
    assert R.REVIEW_NEEDED in r.flags
    assert r.reasons
