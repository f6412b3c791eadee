"""Cheats for the CUDA course (notebooks/cuda-numba)."""

from . import Mutant

NB04 = "cuda-numba/04-shared-memory-and-pooling.ipynb"
NB05 = "cuda-numba/05-dot-product-and-reduction.ipynb"
NB07 = "cuda-numba/07-prefix-sum.ipynb"
NB09 = "cuda-numba/09-matmul-naive-and-tiled.ipynb"
NB13 = "cuda-numba/13-coalescing-and-transpose.ipynb"
NB17 = "cuda-numba/17-softmax-and-layernorm.ipynb"

REVERSE_NO_BARRIER = """@cuda.jit
def reverse_each_block(a):
    sh = cuda.shared.array(TPB, float32)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sh[t] = a[i]
    a[i] = sh[TPB - 1 - t]
"""

WINDOW_SUM_GLOBAL_ONLY = """@cuda.jit
def window_sum(a, out):
    i = cuda.grid(1)
    if i < a.size:
        s = float32(0.0)
        for k in range(WINDOW):
            if i + k < a.size:
                s += a[i + k]
        out[i] = s
"""

COUNT_ABOVE_BARRIER_IN_IF = """@cuda.jit
def count_above(a, threshold, counts):
    c = cuda.shared.array(1, int32)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    if t == 0:
        c[0] = 0
        cuda.syncthreads()
    cuda.syncthreads()
    if i < a.size and a[i] > threshold:
        cuda.atomic.add(c, 0, 1)
    cuda.syncthreads()
    if t == 0:
        counts[cuda.blockIdx.x] = c[0]
"""

BLOCK_SUM_TREE = """@cuda.jit
def block_sum(a, partial):
    sh = cuda.shared.array(TPB, float32)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sh[t] = a[i] if i < a.size else float32(0.0)
    cuda.syncthreads()
    stride = TPB // 2
    while stride > 0:
        if t < stride:
            sh[t] += sh[t + stride]
{barrier}        stride //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = sh[0]
"""

DOT_NUMPY = """@cuda.jit
def dot_partial(a, b, partial):
    i = cuda.grid(1)


def gpu_dot(a, b):
    blocks = (a.size + TPB - 1) // TPB
    dot_partial[blocks, TPB](cuda.to_device(a), cuda.to_device(b), cuda.device_array(blocks, np.float32))
    return float(np.dot(a.astype(np.float64), b))
"""

DOT_NO_LAUNCH = DOT_NUMPY.replace(
    "    dot_partial[blocks, TPB](cuda.to_device(a), cuda.to_device(b), cuda.device_array(blocks, np.float32))\n",
    "",
)

SUM_NUMPY = """def gpu_sum(d_a):
    return float(d_a.copy_to_host().sum(dtype=np.float64))
"""

SUM_ONE_LEVEL = """def gpu_sum(d_a):
    blocks = (d_a.size + TPB - 1) // TPB
    out = cuda.device_array(blocks, dtype=np.float32)
    block_sum[blocks, TPB](d_a, out)
    return float(out.copy_to_host().sum(dtype=np.float64))
"""

SCAN_NO_BARRIER = """@cuda.jit
def block_scan(a, out, totals):
    sh = cuda.shared.array(TPB, int32)
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    sh[t] = a[i] if i < a.size else 0
    cuda.syncthreads()
    d = 1
    while d < TPB:
        if t >= d:
            sh[t] += sh[t - d]
        cuda.syncthreads()
        d *= 2
    if i < a.size:
        out[i] = sh[t]
    if t == TPB - 1:
        totals[cuda.blockIdx.x] = sh[t]
"""

SCAN_NUMPY = """def gpu_scan(d_a):
    return cuda.to_device(np.cumsum(d_a.copy_to_host()).astype(np.int32))
"""

COMPACT_NUMPY = """@cuda.jit
def flag_positive(a, flags):
    i = cuda.grid(1)


@cuda.jit
def scatter_kept(a, flags, positions, out):
    i = cuda.grid(1)


def compact_positive(a):
    return a[a > 0]
"""

NAIVE_CALLS_NUMPY = """@cuda.jit
def matmul_naive(A, B, C):
    j, i = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        C[i, j] = np.dot(A[i, :], B[:, j])
"""

TILED_IS_NAIVE = """@cuda.jit
def matmul_tiled(A, B, C):
    j, i = cuda.grid(2)
    if i < C.shape[0] and j < C.shape[1]:
        acc = float32(0.0)
        for k in range(A.shape[1]):
            acc += A[i, k] * B[k, j]
        C[i, j] = acc
"""

TILED_ONE_BARRIER = """@cuda.jit
def matmul_tiled(A, B, C):
    sA = cuda.shared.array((TILE, TILE), float32)
    sB = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    row = cuda.blockIdx.y * TILE + ty
    acc = float32(0.0)
    for t in range((A.shape[1] + TILE - 1) // TILE):
        k_a = t * TILE + tx
        k_b = t * TILE + ty
        sA[ty, tx] = A[row, k_a] if row < A.shape[0] and k_a < A.shape[1] else float32(0.0)
        sB[ty, tx] = B[k_b, col] if k_b < B.shape[0] and col < B.shape[1] else float32(0.0)
        cuda.syncthreads()
        for kk in range(TILE):
            acc += sA[ty, kk] * sB[kk, tx]
    if row < C.shape[0] and col < C.shape[1]:
        C[row, col] = acc
"""

TRANSPOSE_NO_BARRIER = """@cuda.jit
def transpose_tiled(src, dst):
    tile = cuda.shared.array((TILE, TILE + 1), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    for j in range(0, TILE, BLOCK_ROWS):
        row = cuda.blockIdx.y * TILE + ty + j
        if row < src.shape[0] and col < src.shape[1]:
            tile[ty + j, tx] = src[row, col]
    col = cuda.blockIdx.y * TILE + tx
    for j in range(0, TILE, BLOCK_ROWS):
        row = cuda.blockIdx.x * TILE + ty + j
        if row < dst.shape[0] and col < dst.shape[1]:
            dst[row, col] = tile[tx, ty + j]
"""

SOFTMAX_THREAD0_NUMPY = """@cuda.jit
def softmax_rows_block(x, out):
    row = cuda.blockIdx.x
    if cuda.threadIdx.x == 0:
        e = np.exp(x[row] - np.max(x[row]))
        out[row] = e / np.sum(e)
"""

LAYERNORM_BARRIER_REMOVED = """@cuda.jit
def layernorm_rows(x, gamma, beta, eps, out):
    sh = cuda.shared.array(TPB, float32)
    row = cuda.blockIdx.x
    t = cuda.threadIdx.x
    n = x.shape[1]
    acc = float32(0.0)
    for j in range(t, n, TPB):
        acc += x[row, j]
    sh[t] = acc
    cuda.syncthreads()
    s = TPB // 2
    while s > 0:
        if t < s:
            sh[t] += sh[t + s]
        cuda.syncthreads()
        s //= 2
    mean = sh[0] / n
    acc = float32(0.0)
    for j in range(t, n, TPB):
        d = x[row, j] - mean
        acc += d * d
    sh[t] = acc
    cuda.syncthreads()
    s = TPB // 2
    while s > 0:
        if t < s:
            sh[t] += sh[t + s]
        cuda.syncthreads()
        s //= 2
    var = sh[0] / n
    inv = float32(1.0) / math.sqrt(var + eps)
    for j in range(t, n, TPB):
        out[row, j] = (x[row, j] - mean) * inv * gamma[j] + beta[j]
"""

MUTANTS: dict[str, list[Mutant]] = {
    NB04: [
        Mutant("reverse without a barrier", {"ex1-reverse": REVERSE_NO_BARRIER}, ("ex1-test",)),
        Mutant(
            "window sum straight from global memory (WINDOW reads per element, no shared tile)",
            {"ex2-window-sum": WINDOW_SUM_GLOBAL_ONLY},
            ("ex2-test", "ex2-edges-test"),
        ),
        Mutant(
            "count_above with a barrier inside `if t == 0`",
            {"ex3-count": COUNT_ABOVE_BARRIER_IN_IF},
            ("ex3-test",),
        ),
    ],
    NB05: [
        Mutant(
            "block sum with the tree's barrier missing",
            {"ex1-block-sum": BLOCK_SUM_TREE.format(barrier="")},
            ("ex1-race-test",),
        ),
        Mutant("gpu_dot in NumPy, an empty kernel launched", {"ex2-dot": DOT_NUMPY}, ("ex2-test",)),
        Mutant("gpu_sum in NumPy", {"ex3-gpu-sum": SUM_NUMPY}, ("ex3-test",)),
        Mutant(
            "block sum with the tree's barrier inside `if t < stride`",
            {"ex1-block-sum": BLOCK_SUM_TREE.format(barrier="            cuda.syncthreads()\n")},
            ("ex1-race-test",),
        ),
        Mutant("gpu_dot in NumPy, no launch", {"ex2-dot": DOT_NO_LAUNCH}, ("ex2-test",)),
        Mutant("gpu_sum: one launch, then NumPy", {"ex3-gpu-sum": SUM_ONE_LEVEL}, ("ex3-test",)),
    ],
    NB07: [
        Mutant(
            "scan reading and writing in one step (barrier missing)",
            {"ex1-block-scan": SCAN_NO_BARRIER},
            ("ex1-race-test",),
        ),
        Mutant("gpu_scan with np.cumsum", {"ex3-gpu-scan": SCAN_NUMPY}, ("ex3-test",)),
        Mutant("compaction by boolean indexing", {"ex4-compact": COMPACT_NUMPY}, ("ex4-test",)),
    ],
    NB09: [
        Mutant(
            "naive kernel calling np.dot",
            {"matmul-naive": NAIVE_CALLS_NUMPY},
            ("test-matmul-naive",),
        ),
        Mutant(
            "naive kernel pasted as the tiled one",
            {"matmul-tiled": TILED_IS_NAIVE},
            ("test-matmul-tiled",),
        ),
        Mutant(
            "tiled kernel without the barrier before the next tile",
            {"matmul-tiled": TILED_ONE_BARRIER},
            ("test-matmul-tiled",),
        ),
    ],
    NB13: [
        Mutant(
            "tiled transpose without a barrier",
            {"transpose-tiled": TRANSPOSE_NO_BARRIER},
            ("test-transpose-tiled",),
        ),
    ],
    NB17: [
        Mutant(
            "block softmax whose thread 0 calls NumPy",
            {"softmax-block": SOFTMAX_THREAD0_NUMPY},
            ("test-softmax-block", "test-softmax-block-edges"),
        ),
        Mutant(
            "layer norm with the barrier before reusing sh removed",
            {"layernorm": LAYERNORM_BARRIER_REMOVED},
            ("test-layernorm",),
        ),
    ],
}

NB06 = "cuda-numba/06-convolution-1d.ipynb"

CONV_TILED_IS_NAIVE = """@cuda.jit
def conv1d_tiled(a, w, out):
    i = cuda.grid(1)
    if i < out.size:
        acc = float32(0.0)
        for j in range(w.size):
            acc += a[i + j] * w[j]
        out[i] = acc
"""

MUTANTS[NB06] = [
    Mutant(
        "naive convolution pasted as the tiled one",
        {"ex2-tiled": CONV_TILED_IS_NAIVE},
        ("ex2-test", "ex2-race-test"),
    ),
]

NB01 = "cuda-numba/01-threads-and-maps.ipynb"
NB12 = "cuda-numba/12-atomics-and-histogram.ipynb"

ADD_TEN_THREAD0_NUMPY = """@cuda.jit
def add_ten(a, out):
    if cuda.grid(1) == 0:
        np.add(a, 10, out)
"""

HISTOGRAM_SHARED_TEMPLATE = """@cuda.jit
def histogram_shared(x, lo, hi, bins):
    s = cuda.shared.array(NBINS, int32)
    t = cuda.threadIdx.x
    if t < NBINS:
        s[t] = 0
    cuda.syncthreads()
    i = cuda.grid(1)
    if i < x.size:
        v = x[i]
        if v >= lo and v < hi:
            b = int((v - lo) / (hi - lo) * NBINS)
            if b >= NBINS:
                b = NBINS - 1
            cuda.atomic.add(s, b, 1)
{before_flush}    if t < NBINS:
{flush}
"""

MUTANTS[NB01] = [
    Mutant(
        "add_ten whose thread 0 calls NumPy", {"ex1-add-ten": ADD_TEN_THREAD0_NUMPY}, ("ex1-test",)
    ),
]
MUTANTS[NB12] = [
    Mutant(
        "shared histogram flushed without a barrier",
        {
            "hist-shared": HISTOGRAM_SHARED_TEMPLATE.format(
                before_flush="", flush="        cuda.atomic.add(bins, t, s[t])"
            )
        },
        ("test-hist-shared",),
    ),
    Mutant(
        "shared histogram flushed without an atomic (blocks race on bins)",
        {
            "hist-shared": HISTOGRAM_SHARED_TEMPLATE.format(
                before_flush="    cuda.syncthreads()\n",
                flush="        bins[t] += s[t]  # atomic.add(s, ...) above",
            )
        },
        ("test-hist-shared",),
    ),
]

NB10 = "cuda-numba/10-ufuncs-and-device-functions.ipynb"

# NumPy's ufuncs on single values: the simulator runs them and the static reading takes them for
# scalar math, but numba-cuda refuses them in a GPU build (only the math module's work there).
SOFTPLUS_DEV_NP_SCALARS = """@cuda.jit(device=True)
def softplus_dev(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))
"""

MUTANTS[NB10] = [
    Mutant(
        "softplus_dev with np.exp and np.log1p on single values (no GPU build)",
        {"softplus-dev": SOFTPLUS_DEV_NP_SCALARS},
        ("test-softplus-device", "test-fused"),
    ),
]
