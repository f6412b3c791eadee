"""Starter for row-softmax: a correct kernel to make faster.

The grader calls solve(x) with a float32 matrix (rows x cols) and compares what it returns with
the reference to rtol 1e-5, atol 1e-6. Some rows are near 80, where exp() overflows float32, so
keep subtracting each row's maximum.

Ideas: fuse the passes (an "online" softmax keeps a running maximum and rescales the running
sum), process several rows at once with numba.prange (parallel=True), let Numba vectorise with
fastmath=True (check the accuracy), and avoid writing the output twice.
"""

import math

import numpy as np
from numba import njit


@njit(cache=False)
def softmax_rows(x, out):
    rows, cols = x.shape
    for r in range(rows):
        peak = x[r, 0]
        for c in range(1, cols):
            peak = max(peak, x[r, c])
        total = 0.0
        for c in range(cols):
            total += math.exp(x[r, c] - peak)
        for c in range(cols):
            out[r, c] = math.exp(x[r, c] - peak) / total


def solve(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    softmax_rows(x, out)
    return out
