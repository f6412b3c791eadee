"""Inputs of row-softmax: a float32 matrix whose rows sit at very different offsets.

Some rows hold values near 80, where exp() overflows float32 (its largest value is e^88.7):
a kernel that does not subtract the row's maximum first returns inf or NaN there.
"""

import numpy as np


def make_inputs(seed: int, shape: dict) -> tuple[np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, cols = shape["rows"], shape["cols"]
    offsets = rng.uniform(-80.0, 80.0, size=(rows, 1))
    x = offsets + 4.0 * rng.standard_normal((rows, cols))
    return (x.astype(np.float32),)
