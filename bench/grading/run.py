#!/usr/bin/env python
"""Grading throughput: plain nbgrader vs KernelCamp's grader workers, on the same corpus.

    .venv/bin/python bench/grading/run.py [--submissions N] [--workers K]

1. builds a corpus of N submissions of notebooks/cuda-numba/01-threads-and-maps.ipynb, derived
   from the source: correct (solutions in place), blank (the release), wrong (a solution with a
   bug), partial (the first exercises done), looping (an infinite loop in one answer cell: a Python
   ``while True`` at the top of a cell, or a simulated CUDA kernel that never returns);
2. grades it with plain nbgrader (``nbgrader generate_assignment`` + one ``nbgrader autograde``
   over all students, as an instructor runs it) in a scratch course directory, and reads the
   scores from nbgrader's Gradebook;
3. grades it with K KernelCamp worker processes (a ``grader.Worker`` with its warm sandboxed
   kernel each);
4. prints throughputs, their ratio, median per-submission latency, score agreement (with the
   reason for every disagreement), the upload-to-feedback latency of one correct submission on an
   idle warm worker, and writes bench/grading/out/throughput.png and results.json.

Both sides use the same per-cell timeout (``Limits().cell_timeout``), the numba-cuda simulator
(NUMBA_ENABLE_CUDASIM=1) and one thread per maths library in the kernel.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tqdm import tqdm  # noqa: E402

from grader import Limits, Worker  # noqa: E402
from grader.source import (  # noqa: E402
    SOLUTION_BEGIN,
    SOLUTION_END,
    make_release,
    notebook_bytes,
    read_notebook,
)

SOURCE = REPO / "notebooks" / "cuda-numba" / "01-threads-and-maps.ipynb"
NB_NAME = SOURCE.stem
ASSIGNMENT = "a1"
COURSE_ID = "bench"
OUT = Path(__file__).resolve().parent / "out"
VENV_BIN = Path(sys.executable).parent
#: Same thread counts as the sandbox gives its kernels (grader/sandbox/process.py).
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}

# ----------------------------------------------------------------------------------- corpus
#: Answer cells in notebook order and the exercises they complete.
ANSWERS = ["ex1-add-ten", "ex2-weighted-sum", "ex3-scale-shift", "ex4-launch-helpers"]

#: Bugs students make, as (answer cell, replace this, with that) applied to the solution.
WRONG = {
    "ex1-offset": (
        "ex1-add-ten",
        "cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x",
        "cuda.threadIdx.x",
    ),
    "ex1-plus-one": ("ex1-add-ten", "a[i] + 10", "a[i] + 1"),
    "ex2-no-weight": ("ex2-weighted-sum", "2 * a[i] + b[i]", "a[i] + b[i]"),
    "ex3-no-guard": (
        "ex3-scale-shift",
        "    if i < a.size:\n        out[i] = alpha * a[i] + beta",
        "    out[i] = alpha * a[i] + beta",
    ),
    "ex4-floor": (
        "ex4-launch-helpers",
        "(n + threads_per_block - 1) // threads_per_block",
        "n // threads_per_block",
    ),
    "ex4-no-relu": ("ex4-launch-helpers", "out[i] = v if v > 0 else 0", "out[i] = v"),
}

LOOPS = {
    # Interruptible: the cell gets KeyboardInterrupt at the cell timeout in both systems.
    "loop-python": ("ex4-launch-helpers", None, "while True:\n    pass\n\n"),
    # A simulated CUDA kernel that never returns. Whether the interrupt reaches it is a race:
    # sometimes the cell ends with KeyboardInterrupt, sometimes the kernel has to be killed.
    "loop-cuda": (
        "ex3-scale-shift",
        "    i = cuda.grid(1)\n    if i < a.size:",
        "    i = cuda.grid(1)\n    while True:\n        pass\n    if i < a.size:",
    ),
}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solved(cell_source: str) -> str:
    """The answer a student would write: the solution region without its markers."""
    return "\n".join(
        line
        for line in cell_source.splitlines()
        if SOLUTION_BEGIN not in line and SOLUTION_END not in line
    )


def build_corpus(n: int, seed: int = 7) -> tuple[bytes, list[dict]]:
    """Return the source bytes and N submissions: {name, kind, detail, data}."""
    source = read_notebook(SOURCE, SOURCE.name)
    release = make_release(source, SOURCE.name)
    solutions = {_grade_id(c): _solved(c.source) for c in source.cells if _grade_id(c) in ANSWERS}

    def submission(answers: dict[str, str]) -> bytes:
        nb = release.copy()
        nb = json.loads(json.dumps(nb))  # deep copy as plain dicts
        from nbformat import from_dict

        nb = from_dict(nb)
        for cell in nb.cells:
            gid = _grade_id(cell)
            if gid in answers:
                cell.source = answers[gid]
        return notebook_bytes(nb)

    def solved_upto(k: int) -> dict[str, str]:
        return {gid: solutions[gid] for gid in ANSWERS[:k]}

    def mutated(table: dict, key: str) -> dict[str, str]:
        gid, old, new = table[key]
        answers = solved_upto(len(ANSWERS))
        if old is None:
            answers[gid] = new + answers[gid]
        else:
            assert old in answers[gid], (key, old)
            answers[gid] = answers[gid].replace(old, new)
        return answers

    # Mix (fractions of N): 40 % correct, 25 % partial, 20 % wrong, 5 % blank, 10 % looping.
    plan: list[tuple[str, str]] = []
    n_loop = max(2, round(0.10 * n))
    n_blank = max(1, round(0.05 * n))
    n_wrong = round(0.20 * n)
    n_partial = round(0.25 * n)
    n_correct = n - n_loop - n_blank - n_wrong - n_partial
    plan += [("correct", "all exercises")] * n_correct
    plan += [("blank", "release as given")] * n_blank
    wrong_keys = list(WRONG)
    plan += [("wrong", wrong_keys[i % len(wrong_keys)]) for i in range(n_wrong)]
    plan += [("partial", f"first {1 + i % 3} of 4 answers") for i in range(n_partial)]
    loop_keys = list(LOOPS)
    plan += [("looping", loop_keys[i % len(loop_keys)]) for i in range(n_loop)]
    random.Random(seed).shuffle(plan)

    corpus = []
    for i, (kind, detail) in enumerate(plan):
        if kind == "correct":
            answers = solved_upto(len(ANSWERS))
        elif kind == "blank":
            answers = {}
        elif kind == "wrong":
            answers = mutated(WRONG, detail)
        elif kind == "partial":
            answers = solved_upto(int(detail.split()[1]))
        else:
            answers = mutated(LOOPS, detail)
        corpus.append(
            {
                "name": f"s{i:03d}-{kind}",
                "kind": kind,
                "detail": detail,
                "data": submission(answers),
            }
        )
    return notebook_bytes(source), corpus


# --------------------------------------------------------------------------------- nbgrader
def run_nbgrader(source: bytes, corpus: list[dict], limits: Limits, work: Path) -> dict:
    course = work / "nbgrader-course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "source" / ASSIGNMENT / SOURCE.name).write_bytes(source)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        f"c.Execute.timeout = {int(limits.cell_timeout)}\n"
    )
    env = dict(os.environ)
    env.update(THREAD_ENV)
    env["NUMBA_ENABLE_CUDASIM"] = "1"
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}"  # kernelspec runs `python`
    nbgrader = [str(VENV_BIN / "nbgrader")]
    gen = subprocess.run(
        nbgrader + ["generate_assignment", ASSIGNMENT, "--force"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if gen.returncode != 0:
        raise SystemExit(f"nbgrader generate_assignment failed:\n{gen.stderr[-3000:]}")
    for sub in corpus:
        path = course / "submitted" / sub["name"] / ASSIGNMENT / SOURCE.name
        path.parent.mkdir(parents=True)
        path.write_bytes(sub["data"])

    log_lines: list[tuple[float, str]] = []
    starts: dict[str, float] = {}
    bar = tqdm(total=len(corpus), desc="nbgrader autograde", unit="sub")
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        nbgrader + ["autograde", ASSIGNMENT],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    marker = "Creating/updating student with ID '"
    for line in proc.stdout:
        now = time.monotonic()
        log_lines.append((now - t0, line.rstrip("\n")))
        if marker in line:
            student = line.split(marker, 1)[1].split("'", 1)[0]
            starts[student] = now
            bar.update(1)
    proc.wait()
    t1 = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    bar.close()
    (OUT / "nbgrader-autograde.log").write_text(
        "\n".join(f"{t:8.2f} {line}" for t, line in log_lines) + "\n"
    )

    # Why nbgrader failed a student, from its part of the log (nbclient's exception message).
    failures: dict[str, str] = {}
    current = None
    for _, line in log_lines:
        if marker in line:
            current = line.split(marker, 1)[1].split("'", 1)[0]
        elif current and (
            "CellTimeoutError:" in line
            or "DeadKernelError:" in line
            or "The message was:" in line
            or "RuntimeError:" in line
        ):
            failures[current] = (failures.get(current, "") + " " + line.strip()).strip()

    # Per-student time: from its first log line to the next student's (or the end).
    order = sorted(starts.items(), key=lambda kv: kv[1])
    latency = {}
    for (student, start), nxt in zip(order, order[1:] + [(None, t1)], strict=True):
        latency[student] = nxt[1] - start

    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict | None] = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db", course_id=COURSE_ID) as gb:
        for sub in corpus:
            try:
                nbsub = gb.find_submission_notebook(NB_NAME, ASSIGNMENT, sub["name"])
            except MissingEntry:
                scores[sub["name"]] = None
                continue
            # A submission that nbgrader's autograde failed on keeps an entry only if it was
            # graded; its autograded folder is removed on failure.
            graded = (course / "autograded" / sub["name"] / ASSIGNMENT / SOURCE.name).exists()
            scores[sub["name"]] = {
                "graded": graded,
                "score": nbsub.score,
                "max_score": nbsub.max_score,
                "cells": {g.name: g.score for g in nbsub.grades},
            }
    failed = [
        line for _, line in log_lines if "ERROR" in line and "error processing" in line.lower()
    ]
    return {
        "wall_s": t1 - t0,
        # nbgrader and every kernel it started (all reaped before it exits).
        "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        "returncode": proc.returncode,
        "scores": scores,
        "latency_s": latency,
        "errors": failed,
        "failures": failures,
        "course_dir": str(course),
    }


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
    """CPU seconds of this process and of its reaped children (the kernels it closed)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


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
        t0 = time.monotonic()
        result = worker.grade(read_notebook(source, SOURCE.name), submission, name="upload.ipynb")
        cold = time.monotonic() - t0
    return {
        "warm_s": warm,
        "cold_s": cold,
        "steps": [line for line in result.log if "step" in line],
    }


# ------------------------------------------------------------------------------- comparison
def compare(corpus: list[dict], nbg: dict | None, kc: dict) -> list[dict]:
    rows = []
    for sub in corpus:
        name = sub["name"]
        k = kc["results"][name]
        row = {
            "name": name,
            "kind": sub["kind"],
            "detail": sub["detail"],
            "kc_score": k["score"],
            "kc_flags": k["flags"],
        }
        if nbg is None:
            rows.append(row)
            continue
        n = nbg["scores"].get(name)
        if n is None:
            row.update(
                nb_score=None,
                agree=False,
                reason="nbgrader recorded no grade (autograde failed and removed it)",
            )
        elif not n["graded"]:
            why = nbg.get("failures", {}).get(name, "no message in its log")
            row.update(
                nb_score=n["score"],
                agree=False,
                reason="nbgrader's autograde failed on this submission and removed its "
                f"autograded copy (gradebook keeps {n['score']:g}): {why}",
            )
        else:
            row["nb_score"] = n["score"]
            diff = [
                f"{gid}: nbgrader {n['cells'].get(gid)} vs KernelCamp {pts} ({k['status'][gid]})"
                for gid, pts in k["cells"].items()
                if abs((n["cells"].get(gid) or 0.0) - pts) > 1e-9
            ]
            row["agree"] = not diff and abs(n["score"] - k["score"]) < 1e-9
            row["reason"] = "; ".join(diff)
        rows.append(row)
    return rows


def plot(path: Path, nbg: dict | None, kc: dict, corpus: list[dict], workers: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(corpus)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, values = [], []
    if nbg is not None:
        labels.append("nbgrader autograde\n(1 command)")
        values.append(60 * n / nbg["wall_s"])
    labels.append(f"KernelCamp\n{workers} workers")
    values.append(60 * n / kc["wall_s"])
    bars = ax1.bar(labels, values, color=["#999999", "#3b7dd8"][-len(values) :])
    for bar, value in zip(bars, values, strict=True):
        ax1.text(bar.get_x() + bar.get_width() / 2, value, f"{value:.1f}", ha="center", va="bottom")
    ax1.set_ylabel("submissions / minute")
    ax1.set_title(f"Throughput, {n} submissions, 2 cores")

    kinds = sorted({s["kind"] for s in corpus})
    data_kc = [
        [
            kc["results"][s["name"]]["t1"] - kc["results"][s["name"]]["t0"]
            for s in corpus
            if s["kind"] == k
        ]
        for k in kinds
    ]
    pos = range(len(kinds))
    ax2.boxplot(
        data_kc,
        positions=[p + 0.2 for p in pos],
        widths=0.35,
        patch_artist=True,
        boxprops={"facecolor": "#3b7dd8"},
    )
    if nbg is not None:
        data_nb = [
            [nbg["latency_s"].get(s["name"], float("nan")) for s in corpus if s["kind"] == k]
            for k in kinds
        ]
        ax2.boxplot(
            data_nb,
            positions=[p - 0.2 for p in pos],
            widths=0.35,
            patch_artist=True,
            boxprops={"facecolor": "#999999"},
        )
    ax2.set_xticks(list(pos), kinds)
    ax2.set_ylabel("seconds per submission")
    ax2.set_title("Per-submission latency (grey nbgrader, blue KernelCamp)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--submissions", "-n", type=int, default=40)
    ap.add_argument("--workers", "-k", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-nbgrader", action="store_true", help="KernelCamp only (iterating)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch nbgrader course")
    args = ap.parse_args()
    if args.submissions < 8:
        ap.error("--submissions must be at least 8 (one of each kind)")
    OUT.mkdir(parents=True, exist_ok=True)
    limits = Limits()
    load_before = os.getloadavg()

    source, corpus = build_corpus(args.submissions, args.seed)
    kinds = {}
    for sub in corpus:
        kinds[sub["kind"]] = kinds.get(sub["kind"], 0) + 1
    print(f"corpus: {len(corpus)} submissions of {SOURCE.relative_to(REPO)}: {kinds}")
    print(
        f"cell timeout {limits.cell_timeout:g} s on both sides, NUMBA_ENABLE_CUDASIM=1, "
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}"
    )

    work = Path(tempfile.mkdtemp(prefix="kc-bench-"))
    try:
        nbg = None if args.skip_nbgrader else run_nbgrader(source, corpus, limits, work)
        kc = run_kernelcamp(source, corpus, limits, args.workers)
        correct = next(s["data"] for s in corpus if s["kind"] == "correct")
        upload = upload_to_feedback(source, correct, limits)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"scratch course kept in {work}")
    load_after = os.getloadavg()

    n = len(corpus)
    rows = compare(corpus, nbg, kc)
    kc_lat = [r["t1"] - r["t0"] for r in kc["results"].values()]
    kc_tp = 60 * n / kc["wall_s"]
    print()
    print(
        f"KernelCamp, {args.workers} workers (pids {kc['worker_pids']}): {kc['wall_s']:.1f} s "
        f"-> {kc_tp:.1f} submissions/min (pool start-up with warm kernels "
        f"{kc['startup_s']:.1f} s; {60 * n / kc['wall_with_startup_s']:.1f}/min including it)"
    )
    kc_cpu = sum(r["cpu_s"] for r in kc["results"].values())
    print(
        f"  per-submission latency: median {statistics.median(kc_lat):.2f} s, "
        f"max {max(kc_lat):.2f} s; CPU {kc_cpu / n:.2f} s per submission (kernels included)"
    )
    summary = {
        "submissions": n,
        "kinds": kinds,
        "workers": args.workers,
        "cell_timeout_s": limits.cell_timeout,
        "load_before": load_before,
        "load_after": load_after,
        "kernelcamp": {
            "wall_s": kc["wall_s"],
            "throughput_per_min": kc_tp,
            "startup_s": kc["startup_s"],
            "median_latency_s": statistics.median(kc_lat),
            "cpu_s_per_submission": kc_cpu / n,
        },
        "upload_to_feedback": upload,
        "rows": rows,
    }
    if nbg is not None:
        nb_lat = list(nbg["latency_s"].values())
        nb_tp = 60 * n / nbg["wall_s"]
        print(
            f"nbgrader autograde (one command, exit {nbg['returncode']}): {nbg['wall_s']:.1f} s "
            f"-> {nb_tp:.1f} submissions/min; CPU {nbg['cpu_s'] / n:.2f} s per submission "
            "(kernels included)"
        )
        if nb_lat:
            print(
                f"  per-submission latency: median {statistics.median(nb_lat):.2f} s, "
                f"max {max(nb_lat):.2f} s"
            )
        print(f"ratio KernelCamp / nbgrader: {kc_tp / nb_tp:.2f}x (goal >= 3x)")
        agree = [r for r in rows if r["agree"]]
        print(f"scores agree on {len(agree)}/{n} submissions")
        for r in rows:
            if not r["agree"]:
                print(
                    f"  DISAGREE {r['name']} ({r['detail']}): nbgrader {r['nb_score']} vs "
                    f"KernelCamp {r['kc_score']:g} -- {r['reason']}"
                )
        summary["nbgrader"] = {
            "wall_s": nbg["wall_s"],
            "throughput_per_min": nb_tp,
            "median_latency_s": statistics.median(nb_lat) if nb_lat else None,
            "returncode": nbg["returncode"],
            "cpu_s_per_submission": nbg["cpu_s"] / n,
        }
        summary["ratio"] = kc_tp / nb_tp
        summary["agree"] = len(agree)
    print(
        "per kind: count, KernelCamp median latency / mean CPU per submission"
        + (", nbgrader median latency" if nbg is not None else "")
    )
    per_kind = {}
    for kind in sorted(kinds):
        names = [s["name"] for s in corpus if s["kind"] == kind]
        lat = [kc["results"][x]["t1"] - kc["results"][x]["t0"] for x in names]
        cpu = [kc["results"][x]["cpu_s"] for x in names]
        entry = {
            "count": len(names),
            "kc_median_latency_s": statistics.median(lat),
            "kc_mean_cpu_s": statistics.mean(cpu),
        }
        line = (
            f"  {kind:8s} {len(names):3d}  {entry['kc_median_latency_s']:6.2f} s / "
            f"{entry['kc_mean_cpu_s']:5.2f} s"
        )
        if nbg is not None:
            nl = [nbg["latency_s"][x] for x in names if x in nbg["latency_s"]]
            if nl:
                entry["nb_median_latency_s"] = statistics.median(nl)
                line += f"   nbgrader {entry['nb_median_latency_s']:6.2f} s"
        per_kind[kind] = entry
        print(line)
    summary["per_kind"] = per_kind
    print(
        f"upload-to-feedback, one correct submission: {upload['warm_s']:.2f} s on an idle warm "
        f"worker (goal < 10 s); {upload['cold_s']:.2f} s with no warm kernel"
    )
    print(f"load average after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    plot(OUT / "throughput.png", nbg, kc, corpus, args.workers)
    (OUT / "results.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    print(f"wrote {OUT / 'throughput.png'} and {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
