"""Cheats for the PyTorch course (notebooks/pytorch-gpu)."""

from . import Mutant

NB04 = "pytorch-gpu/04-fused-kernel-vs-torch.ipynb"

FORWARD_WITH_TORCH = """SQRT_2_OVER_PI = np.float32(math.sqrt(2.0 / math.pi))
COEF = np.float32(0.044715)
HALF = np.float32(0.5)
ONE = np.float32(1.0)


@cuda.jit(device=True)
def gelu_tanh(u):
    inner = SQRT_2_OVER_PI * (u + COEF * u * u * u)
    return HALF * u * (ONE + math.tanh(inner))


@cuda.jit
def bias_gelu_kernel(x, bias, out):
    col, row = cuda.grid(2)


def fused_bias_gelu(x, bias):
    return F.gelu(x + bias, approximate="tanh").contiguous()
"""

BACKWARD_WITH_AUTOGRAD = """@cuda.jit
def bias_gelu_grad_kernel(x, bias, grad_out, grad_x):
    col, row = cuda.grid(2)


def bias_gelu_backward(x, bias, grad_out):
    rows, cols = x.shape
    d_grad = cuda.device_array((rows, cols), dtype=np.float32)
    bias_gelu_grad_kernel[grid_2d(rows, cols), THREADS_2D](to_numba(x), to_numba(bias), to_numba(grad_out), d_grad)
    xr = x.detach().clone().requires_grad_(True)
    br = bias.detach().clone().requires_grad_(True)
    F.gelu(xr + br, approximate="tanh").backward(grad_out)
    return xr.grad, br.grad
"""

MUTANTS: dict[str, list[Mutant]] = {
    NB04: [
        Mutant(
            "forward with F.gelu, an empty kernel",
            {"ex2-fused-forward": FORWARD_WITH_TORCH},
            ("test-ex2-fused-forward",),
        ),
        Mutant(
            "backward by autograd, an empty backward kernel launched",
            {"ex3-fused-backward": BACKWARD_WITH_AUTOGRAD},
            ("test-ex3-fused-backward",),
        ),
    ],
}

NB03 = "pytorch-gpu/03-numba-kernels-on-torch-tensors.ipynb"

AXPB_WITH_TORCH = """@cuda.jit
def axpb_kernel(x, out, a, b):
    i = cuda.grid(1)


def axpb(t, a, b):
    out = torch.empty_like(t)
    axpb_kernel[blocks_for(t.numel(), 128), 128](to_numba(t), to_numba(out), a, b)
    return a * t + b
"""

ADD_OUTER_WITH_TORCH = """@cuda.jit
def add_outer_kernel(x, u, v, out):
    col, row = cuda.grid(2)


def add_outer(x, u, v):
    return (x + u[:, None] * v[None, :]).contiguous()
"""

MUTANTS[NB03] = [
    Mutant(
        "axpb in torch, an empty kernel launched", {"ex2-axpb": AXPB_WITH_TORCH}, ("test-ex2-axpb",)
    ),
    Mutant(
        "add_outer in torch, no launch",
        {"ex3-add-outer": ADD_OUTER_WITH_TORCH},
        ("test-ex3-add-outer",),
    ),
]
