"""The checks the CUDA notebooks give their students and use in their tests (the locked
`race-checker` cell): barriers in divergent branches, per-thread access counts, launch counting
and calls a GPU kernel cannot make. Run in this process under numba-cuda's simulator."""

import json
import linecache
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKER_IDS = ("race-checker", "kernel-checks")


def checker_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") in CHECKER_IDS]


CHECKER_NOTEBOOKS = sorted(
    str(p.relative_to(REPO / "notebooks"))
    for p in (REPO / "notebooks").glob("*/*.ipynb")
    if checker_cells(p)
)


def checker_source(relative: str) -> str:
    [cell] = checker_cells(REPO / "notebooks" / relative)
    return "".join(cell["source"])


def run_cell(namespace: dict, source: str, name: str) -> None:
    """exec a notebook cell the way IPython does, so inspect.getsource finds its functions."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    exec(compile(source, name, "exec"), namespace)


KERNELS = """
@cuda.jit
def tree_sum(a, partial):
    sh = cuda.shared.array(TPB, float32)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sh[t] = a[i] if i < a.size else float32(0.0)
    cuda.syncthreads()
    s = TPB // 2
    while s > 0:
        if t < s:
            sh[t] += sh[t + s]
            {inner_barrier}
        {outer_barrier}
        s //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = sh[0]


@cuda.jit
def thread0_numpy(a, partial):
    if cuda.threadIdx.x == 0:
        partial[0] = np.sum(a) + a.sum() + sorted([1.0])[0] + helper(a)


def helper(a):
    return 0.0
"""


@pytest.fixture
def notebook():
    from numba import cuda, float32

    namespace = {"__name__": "__main__", "np": np, "cuda": cuda, "float32": float32, "TPB": 32}
    run_cell(namespace, checker_source(CHECKER_NOTEBOOKS[0]), "<race-checker>")

    def define(inner: str = "", outer: str = "cuda.syncthreads()"):
        run_cell(
            namespace,
            KERNELS.format(inner_barrier=inner or "pass", outer_barrier=outer or "pass"),
            "<kernels>",
        )
        return namespace

    return define


def test_every_notebook_ships_the_same_checker():
    assert len(CHECKER_NOTEBOOKS) >= 15, CHECKER_NOTEBOOKS
    assert len({checker_source(nb) for nb in CHECKER_NOTEBOOKS}) == 1


def test_a_correct_tree_is_clean_and_counted(notebook):
    ns = notebook()
    a, partial = np.ones(64, np.float32), np.zeros(2, np.float32)
    assert ns["race_check"](ns["tree_sum"], 2, 32, a, partial) == []
    assert list(partial) == [32.0, 32.0]
    counts = ns["race_check"].counts
    assert counts.max_per_thread("global") == 1
    assert counts.total("shared", "write") > 64


def test_a_barrier_inside_the_if_is_named(notebook):
    ns = notebook(inner="cuda.syncthreads()", outer="")
    problems = ns["race_check"](
        ns["tree_sum"], 2, 32, np.ones(64, np.float32), np.zeros(2, np.float32)
    )
    assert problems and problems[0].startswith("barrier in a divergent branch")
    assert "tree_sum()" in problems[0]


def test_a_missing_barrier_is_a_race(notebook):
    ns = notebook(outer="")
    problems = ns["race_check"](
        ns["tree_sum"], 1, 32, np.ones(32, np.float32), np.zeros(1, np.float32)
    )
    assert problems and "unordered with" in problems[0]


def test_host_calls_in_a_kernel_are_found(notebook):
    ns = notebook()
    problems = ns["device_code_problems"](ns["thread0_numpy"])
    assert sorted(p.split(" at line")[0] for p in problems) == [
        "thread0_numpy() calls a.sum()",
        "thread0_numpy() calls helper()",
        "thread0_numpy() calls np.sum()",
        "thread0_numpy() calls the Python built-in sorted()",
    ]
    assert ns["device_code_problems"](ns["tree_sum"]) == []


def test_launches_are_counted_and_the_kernel_restored(notebook):
    ns = notebook()
    kernel = ns["tree_sum"]
    run_cell(
        ns, "def twice(a, p):\n    tree_sum[1, TPB](a, p)\n    tree_sum[1, TPB](a, p)\n", "<twice>"
    )
    run_cell(
        ns,
        "with count_launches('tree_sum') as launches:\n"
        "    twice(np.ones(32, np.float32), np.zeros(1, np.float32))\n",
        "<count>",
    )
    assert ns["launches"]["tree_sum"] == 2
    assert ns["tree_sum"] is kernel
