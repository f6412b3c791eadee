"""Inputs of vector-add-cuda: two float32 vectors of the shape's length n."""

import numpy as np


def make_inputs(seed: int, shape: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = shape["n"]
    return (
        rng.standard_normal(n, dtype=np.float32),
        rng.standard_normal(n, dtype=np.float32),
    )
