"""Grading the corpus with KernelCamp's grader worker processes."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import resource
import time

import psutil
from common import SOURCE
from tqdm import tqdm

from grader import Limits, Worker  # noqa: E402
from grader.source import (  # noqa: E402
    read_notebook,
)

# -------------------------------------------------------------------------------- KernelCamp
_worker: Worker | None = None
_prepared = None


_barrier = None


def _init_worker(source: bytes, limits: Limits, barrier) -> None:
    global _worker, _prepared, _barrier
    _barrier = barrier
    _worker = Worker(limits, device="simulator", sandbox="process", warm=True)
    _prepared = _worker.prepare(read_notebook(source, SOURCE.name))
    _worker.wait_ready()


def _ready() -> int:
    # Blocks until every worker process has run its initializer (warm kernel up): a process
    # waiting here is busy, so each of the K ready() calls lands in a different process.
    _barrier.wait(timeout=600)
    return os.getpid()


def _cpu() -> float:
    """CPU seconds of this process, of its reaped children, and of the sandbox's fork server
    with the kernels it has reaped (kernels are its children, not this process's)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    server = getattr(getattr(_worker.sandbox, "_fork_server", None), "_proc", None)
    if server is not None and server.poll() is None:
        try:
            t = psutil.Process(server.pid).cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


def _grade(name: str, data: bytes) -> dict:
    assert _worker is not None
    c0, t0 = _cpu(), time.monotonic()
    result = _worker.grade(_prepared, data, name=f"{name}.ipynb")
    t1, c1 = time.monotonic(), _cpu()
    return {
        # Each grade closes one kernel (reaped here) and starts the next one in the background,
        # so on average this is one kernel start plus one grading per submission.
        "cpu_s": c1 - c0,
        "name": name,
        "pid": os.getpid(),
        "t0": t0,
        "t1": t1,
        "score": result.score,
        "max_score": result.max_score,
        "cells": {c.grade_id: c.points for c in result.cells if c.counted},
        "status": {c.grade_id: c.status for c in result.cells},
        "flags": list(result.flags),
        "feedback_bytes": len(result.feedback_html or ""),
        "steps": [line for line in result.log if line.startswith("step ")],
    }


def run_kernelcamp(source: bytes, corpus: list[dict], limits: Limits, workers: int) -> dict:
    ctx = mp.get_context("spawn")
    t_pool = time.monotonic()
    barrier = ctx.Barrier(workers)
    with cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(source, limits, barrier),
    ) as pool:
        pids = {f.result() for f in [pool.submit(_ready) for _ in range(workers)]}
        assert len(pids) == workers, f"only {len(pids)} of {workers} workers started"
        t0 = time.monotonic()
        futures = [pool.submit(_grade, sub["name"], sub["data"]) for sub in corpus]
        results = {}
        with tqdm(total=len(corpus), desc=f"KernelCamp x{workers}", unit="sub") as bar:
            for fut in cf.as_completed(futures):
                res = fut.result()
                results[res["name"]] = res
                bar.update(1)
        t1 = time.monotonic()
    return {
        "wall_s": t1 - t0,
        "wall_with_startup_s": t1 - t_pool,
        "startup_s": t0 - t_pool,
        "worker_pids": sorted(pids),
        "results": results,
    }


def upload_to_feedback(source: bytes, submission: bytes, limits: Limits) -> dict:
    """One correct submission on an idle worker whose warm kernel is ready, bytes to feedback."""
    with Worker(limits, device="simulator", sandbox="process", warm=True) as worker:
        worker.prepare(read_notebook(source, SOURCE.name))
        worker.wait_ready()
        t0 = time.monotonic()
        result = worker.grade(read_notebook(source, SOURCE.name), submission, name="upload.ipynb")
        warm = time.monotonic() - t0
        assert result.feedback_html and result.score == result.max_score, result.reasons
    with Worker(limits, device="simulator", sandbox="process", warm=False) as worker:
        # The source is prepared (and its reference run made) once per worker, not per upload.
        t0 = time.monotonic()
        prepared = worker.prepare(read_notebook(source, SOURCE.name))
        prepare = time.monotonic() - t0
        t0 = time.monotonic()
        result = worker.grade(prepared, submission, name="upload.ipynb")
        cold = time.monotonic() - t0
    return {
        "warm_s": warm,
        "cold_s": cold,
        "prepare_s": prepare,
        "cell_limit": prepared.budget.origin if prepared.budget else None,
        "steps": [line for line in result.log if "step" in line],
    }
