"""End to end: honest submissions, the public API, the CLI, and the sandbox's properties."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import grader
from grader import result as R
from grader.device import resolve_device
from grader.execute import Executor
from grader.sandbox import ProcessSandbox

from .conftest import ATTACKS, FIXTURES, TEST_LIMITS, fixture_bytes

pytestmark = pytest.mark.slow


def test_correct_submission_gets_full_marks(worker, source):
    r = worker.grade(source, fixture_bytes("correct"))
    assert (r.score, r.max_score, r.flags, r.device) == (5, 5, [], "cuda-simulator")
    assert [c.status for c in r.cells] == [R.PASSED, R.PASSED, R.SKIPPED_ON_SIMULATOR]
    assert "timing needs a real GPU" in r.cell("test_speed").message


def test_partial_submission_and_its_feedback(worker, source):
    r = worker.grade(source, fixture_bytes("partial"), name="partial.ipynb")
    assert r.score == 3 and r.cell("test_square").status == R.FAILED
    assert "AssertionError" in r.cell("test_square").message
    html = r.feedback_html
    assert "partial.ipynb" in html and "Score: 3.0 / 5.0" in html
    assert "BEGIN HIDDEN TESTS" not in html and "square(-2) == 4" not in html


def test_grade_function_uses_a_shared_worker(source):
    first = grader.grade(source, fixture_bytes("correct"), TEST_LIMITS, device="simulator")
    second = grader.grade(source, fixture_bytes("partial"), TEST_LIMITS, device="simulator")
    assert (first.score, second.score) == (5, 3)
    assert json.loads(second.to_json(include_feedback=False))["score"] == 3


def test_cli_grades_and_prints_json():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "--json",
            "--device",
            "simulator",
            "--source",
            str(FIXTURES / "grader-source.ipynb"),
            "--submission",
            str(ATTACKS / "partial.ipynb"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["score"] == 3 and data["max_score"] == 5
    assert [c["status"] for c in data["cells"]] == ["failed", "passed", "skipped-on-simulator"]


@pytest.fixture(params=["fork-server", "exec"])
def kernel(request, monkeypatch):
    """A kernel forked from the sandbox's fork server, or started by exec: same jail either way."""
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/kc")
    sandbox = ProcessSandbox(
        TEST_LIMITS, resolve_device("simulator"), fork_server=request.param == "fork-server"
    )
    assert sandbox.describe()["start"] == request.param.replace("-", " ")
    handle = sandbox.start_kernel()
    yield handle
    handle.close()
    sandbox.close()


def _run(kernel, code):
    run = Executor(kernel, TEST_LIMITS, time.monotonic() + 30).run(code)
    return "".join(o.get("text", "") for o in run.outputs if o.output_type == "stream"), run


def test_kernel_runs_unprivileged_with_a_scrubbed_environment(kernel):
    out, run = _run(
        kernel,
        "import os, resource\n"
        "print(os.getuid(), os.getgid(), os.getgroups())\n"
        "print(sorted(os.environ))\n"
        "print(os.environ['NUMBA_ENABLE_CUDASIM'])\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_NPROC)[0])\n"
        "print(resource.getrlimit(resource.RLIMIT_FSIZE)[0])\n"
        "print(os.getcwd(), oct(os.stat('.').st_mode & 0o777))",
    )
    assert run.status == "ok", run.message
    uid_line, env_line, sim, limits, fsize, cwd = out.strip().splitlines()
    uid, gid = (int(x) for x in uid_line.split()[:2])
    if os.geteuid() == 0:
        assert 64000 <= uid < 64064 and gid == uid and uid_line.endswith("[]")
    assert "SECRET_KEY" not in env_line and "DATABASE_URL" not in env_line
    assert sim == "1"
    assert limits.split() == [str(TEST_LIMITS.memory_bytes), str(TEST_LIMITS.max_processes)]
    assert int(fsize) == TEST_LIMITS.max_file_bytes
    assert cwd.endswith(" 0o700")


def test_numba_cuda_performance_warnings_are_off_in_the_kernel(kernel, request):
    """On a GPU numba-cuda warns on stderr about small grids and host arrays passed to a launch, and
    nbgrader scores a test cell that wrote to stderr 0: a correct answer must not lose its points."""
    out, run = _run(
        kernel,
        "from numba import cuda\n"
        "from numba.cuda.core import config\n"
        "print(config.CUDA_LOW_OCCUPANCY_WARNINGS, config.CUDA_WARN_ON_IMPLICIT_COPY)",
    )
    assert run.status == "ok", (run.message, [o.get("text", o.get("evalue")) for o in run.outputs])
    assert out.split() == ["0", "0"]


def test_kernel_cannot_see_the_repository_or_the_grader(kernel):
    out, _ = _run(
        kernel,
        "import os\n"
        f"print(sorted(os.listdir({str(FIXTURES)!r})) if os.path.exists({str(FIXTURES)!r}) else [])\n"
        f"p = {str(FIXTURES.parents[1] / 'pyproject.toml')!r}\n"
        "print(os.path.getsize(p) if os.path.exists(p) else 'absent')",
    )
    listing, size = out.strip().splitlines()
    assert "grader-source.ipynb" not in listing
    # Hidden behind an empty mount, or gone with the private /tmp when the checkout lies there.
    assert size in {"0", "absent"}


def test_closing_a_kernel_leaves_no_process_or_directory(kernel):
    _run(kernel, "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)")
    root = kernel.root
    kernel.close()
    assert not root.exists()
    assert not kernel.is_alive()
    if os.geteuid() == 0:
        uid = kernel.slot.uid
        live = set()
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    state = open(f"/proc/{entry.name}/stat").read().rsplit(")", 1)[1].split()[0]
                    if state != "Z":  # a killed orphan may wait a moment to be reaped
                        live.add(entry.stat().st_uid)
                except OSError:
                    pass
        assert uid not in live


def test_forked_kernels_are_independent_and_the_server_comes_back():
    sandbox = ProcessSandbox(TEST_LIMITS, resolve_device("simulator"), fork_server=True)
    probe = (
        "import os, numpy\nprint(os.environ['HOME'], os.getcwd(), numpy.random.randint(1 << 30))"
    )
    try:
        first, second = sandbox.start_kernel(), sandbox.start_kernel()
        try:
            (home1, cwd1, rand1), (home2, cwd2, rand2) = (
                _run(k, probe)[0].split() for k in (first, second)
            )
        finally:
            first.close()
            second.close()
        assert home1 == cwd1 != home2 == cwd2
        assert rand1 != rand2, "forked kernels share numpy's random state"
        assert first.proc.poll() == -9  # the exit status came back through the server

        # The server dies between submissions (an OOM kill, say): the next kernel starts anyway.
        server = sandbox._fork_server._proc
        server.kill()
        server.wait()
        third = sandbox.start_kernel()
        try:
            assert _run(third, "print(6 * 7)")[0].strip() == "42"
        finally:
            third.close()
    finally:
        sandbox.close()


def test_a_long_cell_yields_the_cpu_until_it_ends(kernel):
    from dataclasses import replace

    limits = replace(TEST_LIMITS, deprioritize_after=0.3)
    executor = Executor(kernel, limits, time.monotonic() + 30)
    long_cell = executor.run("import os, time\ntime.sleep(1.0)\nprint(os.nice(0))")
    after = executor.run("print(os.nice(0))")
    text = [
        "".join(o.get("text", "") for o in r.outputs if o.output_type == "stream").strip()
        for r in (long_cell, after)
    ]
    assert text[0] == "19", "a cell past deprioritize_after runs at the lowest priority"
    if os.geteuid() == 0:  # only root may raise a priority again
        assert text[1] == "0"
