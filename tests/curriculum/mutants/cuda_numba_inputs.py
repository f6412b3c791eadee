"""Cheats for CUDA notebooks 02-04, 12, 13 and 17: kernels that write NaN, zeros or a constant
into their INPUTS as well as their outputs. A test that computes its expected value from the
input after the launch then agrees with the output (NaN == NaN in assert_allclose and
assert_array_equal), so these earned points until the tests took the expected value before the
launch. Notebooks that also appear in other mutant files add to their lists there."""

from . import Mutant

NB02 = "cuda-numba/02-2d-maps-and-broadcast.ipynb"
NB03 = "cuda-numba/03-blocks-and-grid-stride.ipynb"
NB04 = "cuda-numba/04-shared-memory-and-pooling.ipynb"
NB12 = "cuda-numba/12-atomics-and-histogram.ipynb"
NB13 = "cuda-numba/13-coalescing-and-transpose.ipynb"
NB17 = "cuda-numba/17-softmax-and-layernorm.ipynb"

AFFINE_NAN_INTO_INPUT = """@cuda.jit
def affine_2d(m, out, scale, shift):
    col, row = cuda.grid(2)
    if row < m.shape[0] and col < m.shape[1]:
        m[row, col] = math.nan
        out[row, col] = math.nan
"""

SAXPY_NAN_INTO_INPUTS = """@cuda.jit
def saxpy(alpha, x, y, out):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        x[i] = math.nan
        y[i] = math.nan
        out[i] = math.nan
"""

# NaN > threshold is False, so the reference counts nothing: neither does the kernel
COUNT_ABOVE_NAN_INTO_INPUT = """@cuda.jit
def count_above(a, threshold, counts):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = math.nan
    if cuda.threadIdx.x == 0:
        counts[cuda.blockIdx.x] = 0
"""

# every value becomes 7 and is counted in bin 7: the histogram of the overwritten input
HISTOGRAM_ONE_BIN_INTO_INPUT = """@cuda.jit
def histogram_global(x, bins):
    i = cuda.grid(1)
    if i < x.size:
        x[i] = 7
        cuda.atomic.add(bins, 7, 1)
"""

# reads src where the copy would (so its loads look coalesced), then writes NaN into both
COPY_NAN_INTO_INPUT = """@cuda.jit
def copy_2d(src, dst):
    x, y = cuda.grid(2)
    if y < src.shape[0] and x < src.shape[1]:
        v = src[y, x]
        src[y, x] = math.nan
        dst[y, x] = v * math.nan
"""

# the softmax of a row of zeros is uniform: 1 / columns everywhere, and each row sums to 1
SOFTMAX_ZEROES_INPUT = """@cuda.jit
def softmax_rows_naive(x, out):
    row = cuda.grid(1)
    if row < x.shape[0]:
        for j in range(x.shape[1]):
            x[row, j] = 0.0
            out[row, j] = 1.0 / x.shape[1]
"""

# the layer norm of zeros with gamma = beta = 0 is 0: so is every output
LAYERNORM_ZEROES_INPUTS = """@cuda.jit
def layernorm_rows(x, gamma, beta, eps, out):
    row = cuda.blockIdx.x
    for j in range(cuda.threadIdx.x, x.shape[1], TPB):
        x[row, j] = 0.0
        gamma[j] = 0.0
        beta[j] = 0.0
        out[row, j] = 0.0
"""

MUTANTS: dict[str, list[Mutant]] = {
    NB02: [
        Mutant(
            "affine_2d writing NaN into its input and its output",
            {"ex1-affine-2d": AFFINE_NAN_INTO_INPUT},
            ("ex1-test",),
        ),
    ],
    NB03: [
        Mutant(
            "saxpy writing NaN into x, y and out",
            {"ex1-saxpy": SAXPY_NAN_INTO_INPUTS},
            ("ex1-test",),
        ),
    ],
    NB04: [
        Mutant(
            "count_above writing NaN into its input and zero counts",
            {"ex3-count": COUNT_ABOVE_NAN_INTO_INPUT},
            ("ex3-test",),
        ),
    ],
    NB12: [
        Mutant(
            "histogram_global overwriting its input with one bin and counting that",
            {"hist-global": HISTOGRAM_ONE_BIN_INTO_INPUT},
            ("test-hist-global",),
        ),
    ],
    NB13: [
        Mutant(
            "copy_2d writing NaN into src and dst",
            {"copy-2d": COPY_NAN_INTO_INPUT},
            ("test-copy-2d",),
        ),
    ],
    NB17: [
        Mutant(
            "softmax_rows_naive zeroing its input and writing a uniform row",
            {"softmax-naive": SOFTMAX_ZEROES_INPUT},
            ("test-softmax-naive",),
        ),
        Mutant(
            "layernorm_rows zeroing x, gamma, beta and out",
            {"layernorm": LAYERNORM_ZEROES_INPUTS},
            ("test-layernorm", "test-layernorm-edges"),
        ),
    ],
}
