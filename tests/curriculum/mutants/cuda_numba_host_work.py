"""Cheats for CUDA notebooks 01, 05–08, 10, 11 and 14–16: the work done on the host (NumPy,
Python's loops in one thread, numbers from another generator) while the kernels are launched for
show, or not at all. Notebooks that also appear in cuda_numba.py add to its list there."""

from . import Mutant
from .cuda_numba import BLOCK_SUM_TREE, DOT_NUMPY

NB01 = "cuda-numba/01-threads-and-maps.ipynb"
NB05 = "cuda-numba/05-dot-product-and-reduction.ipynb"
NB06 = "cuda-numba/06-convolution-1d.ipynb"
NB07 = "cuda-numba/07-prefix-sum.ipynb"
NB08 = "cuda-numba/08-axis-sum.ipynb"
NB10 = "cuda-numba/10-ufuncs-and-device-functions.ipynb"
NB11 = "cuda-numba/11-memory-and-transfers.ipynb"
NB14 = "cuda-numba/14-random-numbers.ipynb"
NB15 = "cuda-numba/15-streams-and-events.ipynb"
NB16 = "cuda-numba/16-timing-and-roofline.ipynb"

RELU_HELPERS = """def blocks_for(n, threads_per_block):
    return (n + threads_per_block - 1) // threads_per_block


@cuda.jit
def relu_kernel(x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = max(x[i], 0)


def gpu_relu(x):
"""
RELU_NUMPY = (
    RELU_HELPERS
    + """    return np.maximum(x, 0)
"""
)
RELU_FOR_SHOW = (
    RELU_HELPERS
    + """    d_x = cuda.to_device(x)
    relu_kernel[blocks_for(x.size, THREADS), THREADS](d_x, cuda.device_array_like(d_x))
    return np.maximum(x, 0)
"""
)

# the reference kernel (cuda_numba's tree with its barrier in place, loading a[i] * b[i]) and
# cuda_numba's NumPy gpu_dot, which launches it
DOT_FOR_SHOW = (
    BLOCK_SUM_TREE.format(barrier="        cuda.syncthreads()\n")
    .replace("def block_sum(a, partial):", "def dot_partial(a, b, partial):")
    .replace("sh[t] = a[i] if", "sh[t] = a[i] * b[i] if")
    + "\n\n"
    + DOT_NUMPY.split("\n\n\n", 1)[1]
)

# kernels that write into their input as well as their output, so that an expected value taken
# from the input after the launch agrees with the output (NaN == NaN in assert_allclose)
BLOCK_SUM_NAN_INTO_INPUT = """@cuda.jit
def block_sum(a, partial):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = math.nan
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = math.nan
"""

BLOCK_SCAN_ZEROES_INPUT = """@cuda.jit
def block_scan(a, out, totals):
    i = cuda.grid(1)
    if i < a.size:
        a[i] = 0
        out[i] = 0
    if cuda.threadIdx.x == 0:
        totals[cuda.blockIdx.x] = 0
"""

SUM_LEVELS_FOR_SHOW = """def gpu_sum(d_a):
    current = d_a
    while current.size > 1:
        blocks = (current.size + TPB - 1) // TPB
        out = cuda.device_array(blocks, dtype=np.float32)
        block_sum[blocks, TPB](current, out)
        current = out
    return float(d_a.copy_to_host().sum(dtype=np.float64))
"""

CONV_SAME = """def conv1d_same(a, w):
    k = w.size
    if k % 2 == 0:
        raise ValueError("conv1d_same needs an odd filter length")
    pad = (k - 1) // 2
    padded = np.pad(a, pad).astype(np.float32)
{launch}    return np.correlate(padded, w, mode="valid").astype(np.float32)
"""
CONV_SAME_NUMPY = CONV_SAME.format(launch="")
CONV_SAME_FOR_SHOW = CONV_SAME.format(
    launch="    conv1d_tiled[(a.size + TPB - 1) // TPB, TPB](\n"
    "        cuda.to_device(padded), cuda.to_device(w), cuda.device_array(a.size, np.float32))\n"
)

SCAN_LEVELS_FOR_SHOW = """def gpu_scan(d_a):
    n = d_a.size
    blocks = (n + TPB - 1) // TPB
    d_out = cuda.device_array(n, dtype=np.int32)
    d_totals = cuda.device_array(blocks, dtype=np.int32)
    block_scan[blocks, TPB](d_a, d_out, d_totals)
    if blocks > 1:
        add_offsets[blocks, TPB](d_out, gpu_scan(d_totals))
    return cuda.to_device(np.cumsum(d_a.copy_to_host()).astype(np.int32))
"""

COMPACT_FOR_SHOW = """@cuda.jit
def flag_positive(a, flags):
    i = cuda.grid(1)
    if i < a.size:
        flags[i] = 1 if a[i] > 0 else 0


@cuda.jit
def scatter_kept(a, flags, positions, out):
    i = cuda.grid(1)
    if i < a.size and flags[i] == 1:
        out[positions[i] - 1] = a[i]


def compact_positive(a):
    n = a.size
    blocks = (n + TPB - 1) // TPB
    d_a = cuda.to_device(a)
    d_flags = cuda.device_array(n, dtype=np.int32)
    flag_positive[blocks, TPB](d_a, d_flags)
    d_pos = gpu_scan(d_flags)
    d_out = cuda.device_array(n, dtype=a.dtype)
    scatter_kept[blocks, TPB](d_a, d_flags, d_pos, d_out)
    return a[a > 0]
"""

AXIS_SUM_NUMPY = """def axis_sum(m, axis):
    if axis not in (0, 1, -1, -2):
        raise ValueError(f"axis must be 0 or 1, got {axis}")
    axis = axis % 2
    d_m = cuda.to_device(m)
    if axis == 0:
        col_sums[(m.shape[1] + TPB - 1) // TPB, TPB](d_m, cuda.device_array(m.shape[1], np.float32))
    else:
        row_sums[m.shape[0], TPB](d_m, cuda.device_array(m.shape[0], np.float32))
    return m.sum(axis=axis)
"""

COL_SUMS_THREAD0 = """@cuda.jit
def col_sums(m, out):
    if cuda.grid(1) == 0:
        for j in range(m.shape[1]):
            acc = float32(0.0)
            for r in range(m.shape[0]):
                acc += m[r, j]
            out[j] = acc
"""

ROW_SUMS_THREAD0 = """@cuda.jit
def row_sums(m, out):
    r = cuda.blockIdx.x
    if cuda.threadIdx.x == 0:
        acc = float32(0.0)
        for c in range(m.shape[1]):
            acc += m[r, c]
        out[r] = acc
"""

SMOOTHSTEP_HOST = """import math

def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@cuda.jit
def smoothstep_kernel(x, e0, e1, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = smoothstep(e0, e1, x[i])
"""

SMOOTHSTEP_KERNEL_INLINE = """import math

@cuda.jit(device=True)
def smoothstep(e0, e1, x):
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


@cuda.jit
def smoothstep_kernel(x, e0, e1, out):
    i = cuda.grid(1)
    if i < x.size:
        t = min(max((x[i] - e0) / (e1 - e0), 0.0), 1.0)
        out[i] = t * t * (3.0 - 2.0 * t)
"""

SOFTPLUS_DEV_HOST = """def softplus_dev(x):
    return np.logaddexp(0.0, x)
"""

SOFTPLUS_NUMPY = """def softplus(x):
    if hasattr(x, "copy_to_host"):
        return cuda.to_device(np.logaddexp(x.dtype.type(0), x.copy_to_host()))
    return np.logaddexp(x.dtype.type(0), x)
"""

FUSED_INLINE = """@cuda.jit
def fused_affine_softplus(x, a, b, out):
    i = cuda.grid(1)
    if i < x.size:
        u = a * x[i] + b
        out[i] = max(u, 0.0) + math.log1p(math.exp(-abs(u)))
"""

RESIDENT_NUMPY = """def run_resident(x, a, b, lo, hi):
    d_x = cuda.to_device(x)
    y = d_x.copy_to_host()
    return np.clip(a * y + b, lo, hi) ** 2
"""

RESIDENT_KERNELS_FOR_SHOW = """def run_resident(x, a, b, lo, hi):
    d_x = cuda.to_device(x)
    n = x.size
    scale_shift[blocks(n), TPB](d_x, a, b)
    clip_inplace[blocks(n), TPB](d_x, lo, hi)
    square_inplace[blocks(n), TPB](d_x)
    d_x.copy_to_host()
    return np.clip(a * x + b, lo, hi) ** 2
"""

MEDIAN5_THREAD0 = """@cuda.jit
def median5(x, out):
    n = x.size
    if cuda.grid(1) == 0:
        w = cuda.local.array(5, float64)
        for i in range(n):
            for k in range(5):
                w[k] = x[min(max(i + k - 2, 0), n - 1)]
            for k in range(1, 5):
                v = w[k]
                m = k - 1
                while m >= 0 and w[m] > v:
                    w[m + 1] = w[m]
                    m -= 1
                w[m + 1] = v
            out[i] = w[2]
"""

FILL_UNIFORM = """@cuda.jit
def fill_uniform(states, out):
    i = cuda.grid(1)
    for k in range(i, out.size, cuda.gridsize(1)):
        out[k] = {draw}
"""
FILL_NUMPY_RNG = FILL_UNIFORM.format(draw="np.random.random()")
FILL_STATE0 = FILL_UNIFORM.format(draw="xoroshiro128p_uniform_float32(states, 0)")

PI_ON_HOST = """@cuda.jit
def count_in_circle(states, samples, counts):
    i = cuda.grid(1)
    if i < states.size:
        inside = 0
        for _ in range(samples):
            x = xoroshiro128p_uniform_float32(states, i)
            y = xoroshiro128p_uniform_float32(states, i)
            if x * x + y * y < 1.0:
                inside += 1
        counts[i] = inside


def estimate_pi(n_threads, samples, seed):
    pts = np.random.default_rng(seed).random((n_threads * samples, 2))
    return float(4.0 * np.mean((pts ** 2).sum(axis=1) < 1.0))
"""

DROPOUT_STATE0 = """@cuda.jit
def dropout(states, x, p, out):
    i = cuda.grid(1)
    for k in range(i, x.size, cuda.gridsize(1)):
        u = xoroshiro128p_uniform_float32(states, 0)
        out[k] = 0.0 if u < p else x[k] / (1.0 - p)
"""

WALKS_SHARED_STATES = """@cuda.jit
def random_walks(states, steps, final):
    i = cuda.grid(1)
    if i < states.size:
        pos = 0
        for _ in range(steps):
            if xoroshiro128p_uniform_float32(states, i // 2) < 0.5:
                pos += 1
            else:
                pos -= 1
        final[i] = pos
"""

PIPELINE_ON_HOST = """def pipelined(x_pinned, out_pinned, n_chunks, n_streams):
    streams = [cuda.stream() for _ in range(n_streams)]
    d = cuda.device_array_like(x_pinned)
    for c, (a, b) in enumerate(chunk_bounds(x_pinned.size, n_chunks)):
        s = streams[c % n_streams]
        d[a:b].copy_to_device(x_pinned[a:b], stream=s)
        d[a:b].copy_to_host(out_pinned[a:b], stream=s)
    for s in streams:
        s.synchronize()
    out_pinned[:] = transform_reference(out_pinned)
"""

TWO_STAGE_ON_HOST = """def two_stage(x):
    a, b = cuda.stream(), cuda.stream()
    e = cuda.event()
    e.record(a)
    e.wait(b)
    return (transform_reference(x) ** 2).astype(x.dtype)
"""

SAXPY_THREAD0 = """@cuda.jit
def saxpy(a, x, y, out):
    if cuda.grid(1) == 0:
        for k in range(x.size):
            out[k] = a * x[k] + y[k]
"""

TIME_EVENTS_FIRST = """def time_kernel(launch, warmup=2, repeats=10):
    for _ in range(warmup):
        launch()
    events = [(cuda.event(), cuda.event()) for _ in range(repeats)]
    for start, end in events:
        start.record()
        end.record()
    for _ in range(repeats):
        launch()
    times = []
    for start, end in events:
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))
"""

MUTANTS: dict[str, list[Mutant]] = {
    NB01: [
        Mutant(
            "gpu_relu in NumPy, no launch", {"ex4-launch-helpers": RELU_NUMPY}, ("ex4-relu-test",)
        ),
        Mutant(
            "gpu_relu: relu_kernel launched for show, NumPy result returned",
            {"ex4-launch-helpers": RELU_FOR_SHOW},
            ("ex4-relu-test",),
        ),
    ],
    NB05: [
        Mutant(
            "gpu_dot: dot_partial launched for show, np.dot returned",
            {"ex2-dot": DOT_FOR_SHOW},
            ("ex2-test",),
        ),
        Mutant(
            "gpu_sum: block_sum launched per level for show, NumPy sum returned",
            {"ex3-gpu-sum": SUM_LEVELS_FOR_SHOW},
            ("ex3-test",),
        ),
        Mutant(
            "block_sum writing NaN into its input and its output",
            {"ex1-block-sum": BLOCK_SUM_NAN_INTO_INPUT},
            ("ex1-values-test", "ex1-race-test"),
        ),
    ],
    NB06: [
        Mutant(
            "conv1d_same with np.correlate, no launch", {"ex3-same": CONV_SAME_NUMPY}, ("ex3-test",)
        ),
        Mutant(
            "conv1d_same: conv1d_tiled launched for show, np.correlate returned",
            {"ex3-same": CONV_SAME_FOR_SHOW},
            ("ex3-test",),
        ),
    ],
    NB07: [
        Mutant(
            "gpu_scan: kernels launched per level for show, np.cumsum returned",
            {"ex3-gpu-scan": SCAN_LEVELS_FOR_SHOW},
            ("ex3-test",),
        ),
        Mutant(
            "compact_positive: kernels launched for show, boolean indexing returned",
            {"ex4-compact": COMPACT_FOR_SHOW},
            ("ex4-test",),
        ),
        Mutant(
            "block_scan zeroing its input and its output",
            {"ex1-block-scan": BLOCK_SCAN_ZEROES_INPUT},
            ("ex1-values-test", "ex1-race-test"),
        ),
    ],
    NB08: [
        Mutant(
            "axis_sum in NumPy, kernels launched for show",
            {"ex3-axis-sum": AXIS_SUM_NUMPY},
            ("ex3-test",),
        ),
        Mutant(
            "col_sums: thread 0 sums every column",
            {"ex1-col-sums": COL_SUMS_THREAD0},
            ("ex1-test",),
        ),
        Mutant(
            "row_sums: thread 0 sums the whole row",
            {"ex2-row-sums": ROW_SUMS_THREAD0},
            ("ex2-race-test",),
        ),
    ],
    NB10: [
        Mutant(
            "smoothstep a host function with np.clip",
            {"smoothstep": SMOOTHSTEP_HOST},
            ("test-smoothstep-device",),
        ),
        Mutant(
            "softplus_dev a host function",
            {"softplus-dev": SOFTPLUS_DEV_HOST},
            ("test-softplus-device",),
        ),
        Mutant("fused kernel not calling softplus_dev", {"fused": FUSED_INLINE}, ("test-fused",)),
        Mutant(
            "smoothstep_kernel not calling smoothstep",
            {"smoothstep": SMOOTHSTEP_KERNEL_INLINE},
            ("test-smoothstep-kernel",),
        ),
        Mutant(
            "softplus in NumPy, no CUDA ufunc",
            {"softplus-ufunc": SOFTPLUS_NUMPY},
            ("test-softplus-ufunc",),
        ),
    ],
    NB11: [
        Mutant(
            "run_resident: one copy each way, NumPy math",
            {"run-resident": RESIDENT_NUMPY},
            ("test-resident-values",),
        ),
        Mutant(
            "median5: thread 0 filters everything", {"median5": MEDIAN5_THREAD0}, ("test-median5",)
        ),
        Mutant(
            "run_resident: kernels launched, NumPy result returned",
            {"run-resident": RESIDENT_KERNELS_FOR_SHOW},
            ("test-resident-values",),
        ),
    ],
    NB14: [
        Mutant(
            "fill_uniform with NumPy's generator in the kernel",
            {"fill-uniform": FILL_NUMPY_RNG},
            ("test-fill-uniform",),
        ),
        Mutant(
            "estimate_pi with NumPy's generator on the host",
            {"monte-carlo-pi": PI_ON_HOST},
            ("test-monte-carlo-pi",),
        ),
        Mutant(
            "dropout: every thread draws from state 0",
            {"dropout": DROPOUT_STATE0},
            ("test-dropout",),
        ),
        Mutant(
            "random walks: two threads per state",
            {"random-walks": WALKS_SHARED_STATES},
            ("test-random-walks",),
        ),
        Mutant(
            "fill_uniform: every thread draws from state 0",
            {"fill-uniform": FILL_STATE0},
            ("test-fill-uniform",),
        ),
    ],
    NB15: [
        Mutant(
            "pipelined: copies on the streams, transform on the host",
            {"pipelined": PIPELINE_ON_HOST},
            ("test-pipelined-values", "test-pipelined-streams"),
        ),
        Mutant(
            "two_stage: event recorded, work on the host",
            {"two-stage": TWO_STAGE_ON_HOST},
            ("test-two-stage",),
        ),
    ],
    NB16: [
        Mutant("saxpy: thread 0 does every element", {"saxpy": SAXPY_THREAD0}, ("test-saxpy",)),
        Mutant(
            "time_kernel: events recorded before the launches",
            {"time-kernel": TIME_EVENTS_FIRST},
            ("test-time-kernel",),
        ),
    ],
}
