"""The demo kernel challenges in challenges/: they load, their inputs and reference are right, and
an entry scores through the real harness (fast mode: one shape, few runs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from grader.challenges.cli import score_entry
from grader.challenges.spec import load_challenge

CHALLENGES = Path(__file__).resolve().parents[3] / "challenges"
ROW_SOFTMAX = CHALLENGES / "row-softmax"
VECTOR_ADD = CHALLENGES / "vector-add-cuda"


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"demo_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def softmax64(x: np.ndarray) -> np.ndarray:
    shifted = x.astype(np.float64) - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("folder", [ROW_SOFTMAX, VECTOR_ADD])
def test_the_demo_kernel_challenges_load(folder):
    spec = load_challenge(folder)
    assert spec.kind == "kernel" and spec.title_ko
    assert set(spec.secret_seeds()).isdisjoint(spec.kernel.public_seeds)
    for name in ("README.md", "README.ko.md", "baseline.py", "starter.py"):
        assert (folder / name).is_file(), name


def test_row_softmax_inputs_overflow_a_naive_kernel_and_the_entries_agree():
    spec = load_challenge(ROW_SOFTMAX)
    make_inputs = load_module(ROW_SOFTMAX / "inputs.py").make_inputs
    solvers = [load_module(ROW_SOFTMAX / f"{name}.py").solve for name in ("reference", "baseline",
                                                                          "starter")]  # fmt: skip
    for seed in (*spec.kernel.public_seeds, *spec.secret_seeds()):
        (x,) = make_inputs(seed, spec.kernel.shapes[0])
        assert x.dtype == np.float32 and x.shape == (512, 256)
        with np.errstate(over="ignore", invalid="ignore"):
            naive = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        assert not np.isfinite(naive).all()  # the trap the README warns about is there
        expected = softmax64(x)
        for solve in solvers:
            out = solve(x)
            assert out.dtype == np.float32
            np.testing.assert_allclose(out, expected, rtol=spec.kernel.rtol, atol=spec.kernel.atol)


def test_row_softmax_baseline_scores_by_speedup_through_the_harness():
    result = score_entry(ROW_SOFTMAX, ROW_SOFTMAX / "baseline.py", fast=True)
    assert result.status == "scored", result.reason
    assert result.ranked_by == "speedup" and result.device == "cpu"
    assert result.public["score"] > 0 and result.private["score"] > 0
    assert {t.seed_set for t in result.timings} == {"public", "private"}


def test_vector_add_cuda_ranks_by_correctness_on_the_simulator():
    result = score_entry(VECTOR_ADD, VECTOR_ADD / "starter.py", fast=True)
    assert result.status == "scored", result.reason
    if result.device != "cuda-simulator":
        pytest.skip(f"a real GPU ({result.device}): bench/gpu-challenges times it")
    assert result.ranked_by == "correctness" and result.timings == []
    assert result.public["score"] == result.private["score"] == 1.0
