"""Timing rules of the kernel harness: how many calls, the statistics, caches and bandwidth."""

from __future__ import annotations

import hashlib
import math
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TimingRules:
    #: Calls before any timing counts (the first compiles a numba kernel).
    warmup: int = 3
    #: Rounds of the repeat probe: a fresh input, the same input again, then a perturbed copy.
    probe_rounds: int = 3
    min_runs: int = 10
    max_runs: int = 200
    #: Stop once the standard error of the mean is under this fraction of the mean (both series).
    target_rel_sem: float = 0.005
    #: Seconds one (shape, seed set) series may take before it stops at what it has.
    series_budget_s: float = 15.0
    #: A call may take 50 x the reference's median, and never less than this many seconds.
    min_call_timeout_s: float = 10.0
    #: Outputs may be at most this many times the inputs' bytes (sizes the shared memory).
    output_factor: int = 8
    #: The cache-flush buffer is twice the last-level cache, at most this: a virtual machine may
    #: report its host's whole cache (480 MB here), of which a 2-core share is far smaller.
    flush_cap_bytes: int = 64 * 1024**2


DEFAULT_RULES = TimingRules()
#: KC_SCORE_FAST=1 / --fast: a few calls and the first shape only (tests).
FAST_RULES = TimingRules(
    warmup=2, probe_rounds=3, min_runs=3, max_runs=4, series_budget_s=5.0,
    flush_cap_bytes=4 * 1024**2, min_call_timeout_s=2.0,
)  # fmt: skip


def rel_sem(samples: list[float]) -> float:
    """Standard error of the mean over the mean (infinite with fewer than two samples)."""
    if len(samples) < 2:
        return math.inf
    mean = statistics.fmean(samples)
    return statistics.stdev(samples) / math.sqrt(len(samples)) / mean if mean > 0 else math.inf


def call_seed(base_seed: int, shape: dict, index: int, nonce: bytes) -> int:
    """A fresh seed per call from the challenge's seed and a per-run secret nonce, so no input
    is ever known in advance or repeated across calls (tables of answers cannot help)."""
    text = f"{base_seed}|{sorted(shape.items())}|{index}".encode()
    return int.from_bytes(hashlib.blake2b(text, key=nonce, digest_size=8).digest(), "big")


def perturbed(arrays: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A copy with a few elements changed in every array: same identity-free shape and nearly
    the same content, a different right answer (defeats caches keyed on a sample of the data)."""
    changed = []
    for array in arrays:
        copy = np.array(array, copy=True)
        flat = copy.reshape(-1)
        if flat.size:
            where = rng.integers(0, flat.size, size=max(1, flat.size // 997))
            if flat.dtype.kind == "b":
                flat[where] = ~flat[where]
            else:
                flat[where] = flat[where] + flat.dtype.type(1)
        changed.append(copy)
    return tuple(changed)


def last_level_cache_bytes() -> int:
    """The largest CPU cache (sysfs), or 32 MB when it cannot be read."""
    largest = 0
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        try:
            text = path.read_text().strip().upper()
            scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
            largest = max(largest, int(text.rstrip("KMG")) * scale)
        except (OSError, ValueError):
            continue
    return largest or 32 * 1024**2


def cache_flush_buffer(cap_bytes: int) -> np.ndarray:
    """A buffer twice the last-level cache (at most ``cap_bytes``): adding to it evicts what a
    call left there."""
    return np.zeros(min(2 * last_level_cache_bytes(), cap_bytes) // 8, dtype=np.int64)


def memory_bandwidth(size: int = 64 * 1024**2, repeats: int = 3) -> float:
    """Bytes per second of one copy (read + write) on this machine, measured now, best of a few."""
    source = np.ones(size // 8, dtype=np.int64)
    target = np.empty_like(source)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best
