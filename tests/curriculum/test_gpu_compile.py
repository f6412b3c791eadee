"""A kernel must compile for a GPU, checked on a CPU: grader.gpu_compile compiles the course's
kernels to PTX with NVVM in a child process without the simulator (this process runs under it)."""

import json
import linecache
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.gpu_compile import TOOL_HEURISTIC, TOOL_NVVM, compile_kernels, compiles_for_gpu
from tests.curriculum.mutants.cuda_numba import (
    ADD_TEN_THREAD0_NUMPY,
    SOFTMAX_THREAD0_NUMPY,
    WINDOW_SUM_GLOBAL_ONLY,
)

REPO = Path(__file__).resolve().parents[2]
CUDA = REPO / "notebooks" / "cuda-numba"


def run_cells(notebook: str, *grade_ids: str, replace: dict[str, str] | None = None) -> dict:
    """A notebook's cells, chosen by grade_id, run here in order as IPython would (so that
    inspect finds the kernels' source); ``replace`` swaps in other answers by grade_id."""
    cells = {
        c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"])
        for c in json.loads((CUDA / notebook).read_text())["cells"]
    }
    namespace = {"__name__": "__main__"}
    for grade_id in grade_ids:
        source = (replace or {}).get(grade_id, cells[grade_id])
        name = f"<{notebook}:{grade_id}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        exec(compile(source, name, "exec"), namespace)
    return namespace


def rows(n: int, m: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, m)).astype(np.float32)


def test_reference_kernels_compile_for_a_gpu():
    """Among them the three whose shared arrays were sized TPB + WINDOW - 1 and the like, which
    the simulator runs and a GPU build refuses."""
    nb04 = run_cells("04-shared-memory-and-pooling.ipynb", "setup", "ex2-window-sum")
    nb06 = run_cells("06-convolution-1d.ipynb", "setup", "ex2-tiled")
    nb13 = run_cells("13-coalescing-and-transpose.ipynb", "setup", "transpose-tiled")
    nb17 = run_cells("17-softmax-and-layernorm.ipynb", "setup", "softmax-block", "layernorm")
    a, x = np.ones(64, np.float32), rows(4, 40)
    checks = compile_kernels(
        [
            (nb04["window_sum"], (a, a)),
            (nb06["conv1d_tiled"], (a, np.ones(5, np.float32), a)),
            (nb13["transpose_tiled"], (x, x.T.copy())),
            (nb17["softmax_rows_block"], (x, x)),
            (nb17["layernorm_rows"], (x, x[0], x[0], np.float32(1e-5), x)),
        ]
    )
    assert [c.tool for c in checks] == [TOOL_NVVM] * 5, [c.why_fallback for c in checks]
    assert [c.problems for c in checks] == [[]] * 5
    assert all(c.ptx_bytes > 1000 for c in checks)


def test_host_code_in_kernels_is_refused_with_the_line():
    nb17 = run_cells(
        "17-softmax-and-layernorm.ipynb",
        "setup",
        "softmax-block",
        replace={"softmax-block": SOFTMAX_THREAD0_NUMPY},
    )
    nb04 = run_cells(
        "04-shared-memory-and-pooling.ipynb",
        "setup",
        "ex2-window-sum",
        replace={
            "ex2-window-sum": "def helper(a):\n    return a[0]\n\n"
            + WINDOW_SUM_GLOBAL_ONLY.replace("out[i] = s", "out[i] = s + helper(a)")
        },
    )
    x, a = rows(2, 40), np.ones(64, np.float32)
    numpy_rows, helper = compile_kernels(
        [(nb17["softmax_rows_block"], (x, x)), (nb04["window_sum"], (a, a))]
    )
    assert numpy_rows.tool == TOOL_NVVM and not numpy_rows.ok
    [problem] = numpy_rows.problems
    assert problem.startswith("softmax_rows_block() calls max() in a way that does not compile")
    assert "at line 5: e = np.exp(x[row] - np.max(x[row]))" in problem
    [problem] = helper.problems
    assert problem.startswith("window_sum() calls helper(), a plain Python function")
    assert problem.endswith("out[i] = s + helper(a)")


def test_numpy_on_single_values_and_unfolded_sizes_are_named():
    """np.exp on a float passes the simulator and fails on a GPU (numba-cuda has no GPU version
    of that ufunc); so does a shared array sized by an expression."""
    src = (
        "import numpy as np\nfrom numba import cuda, float32\nTPB = 32\n\n"
        "@cuda.jit\ndef exp_each(a, out):\n    i = cuda.grid(1)\n    out[i] = np.exp(a[i])\n\n"
        "@cuda.jit\ndef padded(a):\n    sh = cuda.shared.array(TPB + 1, float32)\n"
        "    sh[0] = a[0]\n    a[1] = sh[0]\n"
    )
    linecache.cache["<cell>"] = (len(src), None, src.splitlines(True), "<cell>")
    namespace = {"__name__": "__main__"}
    exec(compile(src, "<cell>", "exec"), namespace)
    a = np.ones(8, np.float32)
    exp_each, padded = compile_kernels(
        [(namespace["exp_each"], (a, a)), (namespace["padded"], (a,))]
    )
    assert exp_each.problems == [
        "exp_each() calls np.exp(), which numba-cuda cannot compile for a GPU: use the math "
        "module (math.exp) on single values at line 8: out[i] = np.exp(a[i])"
    ]
    [problem] = padded.problems
    assert "cuda.shared.array a size numba cannot read as a constant" in problem
    assert problem.endswith("at line 12: sh = cuda.shared.array(TPB + 1, float32)")


def test_a_signature_string_works_as_well_as_example_arguments():
    nb = run_cells("01-threads-and-maps.ipynb", "setup", "ex1-add-ten")
    assert compiles_for_gpu(nb["add_ten"], argtypes="(float32[:], float32[:])").ok
    mutant = run_cells(
        "01-threads-and-maps.ipynb",
        "setup",
        "ex1-add-ten",
        replace={"ex1-add-ten": ADD_TEN_THREAD0_NUMPY},
    )
    check = compiles_for_gpu(mutant["add_ten"], argtypes="(float32[:], float32[:])")
    assert check.tool == TOOL_NVVM and not check.ok, check


def test_without_nvvm_the_fallback_runs_and_says_so(tmp_path):
    """An interpreter that cannot import numba-cuda (here: without any of its packages) stands for a
    machine without the NVVM wheels: the static reading runs instead, and the result says so."""
    python = tmp_path / "python-without-packages"
    python.write_text(f'#!/bin/sh\nunset KERNELCAMP_SITE_DIRS\nexec {sys.executable} -S -E "$@"\n')
    python.chmod(0o755)
    nb = run_cells("01-threads-and-maps.ipynb", "setup", "ex1-add-ten")
    a = np.ones(8, np.float32)
    check = compiles_for_gpu(
        nb["add_ten"], a, a, python=str(python), fallback=lambda k: [f"{k.__name__}: heuristic"]
    )
    assert check.tool == TOOL_HEURISTIC
    assert check.problems == ["add_ten: heuristic"]
    assert "numba-cuda cannot be imported" in check.why_fallback
    with pytest.raises(TypeError):
        compiles_for_gpu(object())


@pytest.mark.slow
def test_the_grader_refuses_what_only_a_gpu_build_would_catch():
    """Notebook 17 graded through the real grader: np.exp on single values runs under the
    simulator and passes the static reading, but a GPU build refuses it. The compile check runs
    inside the grading sandbox (the kernel's child process) with NVVM, not the fallback."""
    import grader
    from tests.curriculum.mutants import Mutant
    from tests.curriculum.test_courses import source_of
    from tests.curriculum.test_mutants import mutated_submission

    relative = "cuda-numba/17-softmax-and-layernorm.ipynb"
    source = source_of(relative)
    [answer] = [
        "".join(c.source)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax-block"
    ]
    assert "math.exp(" in answer
    mutant = Mutant(
        "np.exp in a kernel", {"softmax-block": answer.replace("math.exp(", "np.exp(")}, ()
    )
    worker = grader.Worker(grader.Limits(), device="simulator")
    try:
        result = worker.grade(source, mutated_submission(source, [mutant]), name="mutant.ipynb")
    finally:
        worker.close()
    cells = {c.grade_id: c for c in result.cells}
    # The static reading alone passes this answer (np.exp is scalar math to it), so a zero here
    # means NVVM ran in the sandbox. (The cells' messages are hidden: they have hidden tests.)
    here = run_cells(
        "17-softmax-and-layernorm.ipynb",
        "setup",
        "race-checker",
        "softmax-block",
        replace={"softmax-block": mutant.cells["softmax-block"]},
    )
    assert here["device_code_problems"](here["softmax_rows_block"]) == []
    for grade_id in ("test-softmax-block", "test-softmax-block-edges"):
        assert cells[grade_id].points == 0, (grade_id, cells[grade_id].message)
    for grade_id in ("test-softmax-naive", "test-layernorm", "test-layernorm-edges"):
        assert cells[grade_id].points == cells[grade_id].max_points, cells[grade_id].message


def test_notebooks_ship_this_module_as_their_gpu_compile_cell():
    """The grading sandbox does not see the repository: a notebook carries the check as a
    locked cell, which must be grader/gpu_compile.py as it is."""
    module = (REPO / "grader" / "gpu_compile.py").read_text()
    shipped = {
        path.name: "".join(c["source"])
        for path in sorted((REPO / "notebooks").glob("*/*.ipynb"))
        for c in json.loads(path.read_text())["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "gpu-compile"
    }
    assert "17-softmax-and-layernorm.ipynb" in shipped
    assert {name for name, text in shipped.items() if text != module} == set()


def test_every_statically_checked_kernel_is_also_compiled():
    """A test cell that reads a kernel with device_code_problems also compiles one for a GPU
    (and its notebook carries the gpu-compile cell): the static reading alone lets np.exp on
    single values through. Notebook 10's ufunc test reads a plain function, which the GPU
    build reaches through probe_softplus."""
    unchecked, no_cell = [], []
    for path in sorted((REPO / "notebooks").glob("*/*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in cells]
        for grade_id, cell in zip(ids, cells, strict=True):
            source = "".join(cell["source"])
            if grade_id in ("race-checker", "kernel-checks", "gpu-compile", "test-softplus-ufunc"):
                continue
            if "device_code_problems(" in source and "compiles_for_gpu(" not in source:
                unchecked.append(f"{path.name}:{grade_id}")
            if "compiles_for_gpu(" in source and "gpu-compile" not in ids:
                no_cell.append(path.name)
    assert unchecked == [] and no_cell == []


def test_notebook_18s_gpu_only_sections_skip_here_and_compile_for_a_gpu(capsys):
    """Profiling and warp shuffles run on a GPU only: under the simulator their cells say they
    are skipped, and their kernels (shuffles and lane ids included) compile for a GPU."""
    cells = [
        c
        for c in json.loads((CUDA / "18-occupancy-divergence-latency.ipynb").read_text())["cells"]
        if c["cell_type"] == "code"
    ]
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(cells):
        source, name = "".join(cell["source"]), f"<18:{i}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        exec(compile(source, name, "exec"), namespace)
    out = capsys.readouterr().out
    assert "Skipped on the simulator: register counts and profilers need a real GPU" in out
    assert "Skipped on the simulator: warp shuffles (cuda.shfl_*_sync) need a real GPU." in out
    shuffles, saxpy = compile_kernels(
        [
            (namespace["warp_sums"], "(float32[:], float32[:])"),
            (namespace["saxpy"], "(float32, float32[:], float32[:], float32[:])"),
        ]
    )
    assert (shuffles.tool, shuffles.problems, saxpy.tool, saxpy.problems) == (
        TOOL_NVVM,
        [],
        TOOL_NVVM,
        [],
    )


WARN_AT_LAUNCH = """
# numba-cuda warns at each launch of fewer than 128 blocks on a GPU (_LaunchConfiguration), under
# the same settings; the simulator does not, so this answer makes its launches warn the same way.
import warnings
from numba.core.errors import NumbaPerformanceWarning
from numba.cuda.core import config as _config
from numba.cuda.simulator import kernel as _simulator

_launch = _simulator.FakeCUDAKernel.__getitem__
{force}

def _warning_launch(self, configuration):
    if _config.CUDA_LOW_OCCUPANCY_WARNINGS and not _config.DISABLE_PERFORMANCE_WARNINGS:
        warnings.warn(NumbaPerformanceWarning(
            "Grid size 1 will likely result in GPU under-utilization due to low occupancy."))
    return _launch(self, configuration)

_simulator.FakeCUDAKernel.__getitem__ = _warning_launch
"""


@pytest.mark.slow
def test_occupancy_warnings_cost_no_points():
    """Issue 14, item 1: on a GPU numba-cuda warns on stderr about small grids, and nbgrader
    scores a test cell that wrote to stderr 0. The grader's kernels turn the warnings off: with
    launches that warn as on a GPU, notebook 01's reference keeps full marks; the same with the
    warnings forced on loses the points of the cells that launch (so the test can fail)."""
    import grader
    from tests.curriculum.mutants import Mutant
    from tests.curriculum.test_courses import source_of
    from tests.curriculum.test_mutants import mutated_submission

    source = source_of("cuda-numba/01-threads-and-maps.ipynb")
    [answer] = [
        "".join(c.source)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1-add-ten"
    ]
    worker = grader.Worker(grader.Limits(), device="simulator")
    results = {}
    try:
        for force in ("", "_config.CUDA_LOW_OCCUPANCY_WARNINGS = 1"):
            cell = WARN_AT_LAUNCH.format(force=force) + "\n" + answer
            mutant = Mutant("warns at launch", {"ex1-add-ten": cell}, ())
            submission = mutated_submission(source, [mutant])
            results[force] = worker.grade(source, submission, name="warnings.ipynb")
    finally:
        worker.close()
    quiet, loud = results[""], results["_config.CUDA_LOW_OCCUPANCY_WARNINGS = 1"]
    # Cell by cell: the grader holds the whole grade for review (the answer patches a dunder),
    # but each cell's points are still scored.
    counted = [c for c in quiet.cells if c.counted]
    assert counted and all(c.points == c.max_points for c in counted), [
        (c.grade_id, c.message) for c in counted
    ]
    assert loud.cell("ex1-test").points == 0
    assert "stderr" in loud.cell("ex1-test").message
