"""An interrupted cell that was running a simulated CUDA kernel stops with all its threads, so the
later, independent cells still run in the same kernel (issue 9, item 5; nbgrader's interrupt
lets them run too). numba-cuda's simulator runs each CUDA thread as a Python thread; before the
kernel's SIGINT handler ended them as well, a launch that never returns kept them spinning and
the grader had to kill the kernel, so every later cell scored 0 as not-run."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from grader.device import resolve_device
from grader.execute import OK, TIMEOUT, Executor
from grader.sandbox import ProcessSandbox

from .conftest import TEST_LIMITS

pytestmark = pytest.mark.slow

# A short CPU limit for the loop; the grace for the interrupt is wall-clock time in the executor,
# and on a loaded 2-core machine the main thread can wait seconds for the GIL among the spinning
# block threads, so it is generous here (the verdict does not depend on it, only the test's time).
LIMITS = replace(TEST_LIMITS, cell_timeout=2.0, interrupt_grace=20.0)

DEFINE = """
import numpy as np
from numba import cuda

@cuda.jit
def spin(a):
    i = cuda.grid(1)
    while True:
        pass

@cuda.jit
def wait_at_barrier(a):
    i = cuda.grid(1)
    if i == 0:
        while True:
            pass
    cuda.syncthreads()

answer = 41
"""


@pytest.fixture(scope="module")
def sandbox():
    box = ProcessSandbox(LIMITS, resolve_device("simulator"))
    yield box
    box.close()


@pytest.mark.parametrize(
    "launch", ["spin[2, 8](np.zeros(16))", "wait_at_barrier[1, 8](np.zeros(8))"]
)
def test_a_simulated_kernel_that_never_returns_stops_with_its_threads(sandbox, launch):
    kernel = sandbox.start_kernel()
    try:
        executor = Executor(kernel, LIMITS, time.monotonic() + 120)
        assert executor.run(DEFINE).status == OK
        baseline = kernel.count_threads()
        loop = executor.run(launch)
        assert loop.status == TIMEOUT, loop.message
        assert not executor.dead, loop.message
        assert "KeyboardInterrupt" in [o.get("ename") for o in loop.outputs]
        after = executor.run("print(answer + 1)")
        assert after.status == OK, after.message
        assert [o.get("text") for o in after.outputs] == ["42\n"]
        # Nothing of the launch is left: no thread, and none printed into the later cell.
        assert kernel.count_threads() == baseline
    finally:
        kernel.close()
