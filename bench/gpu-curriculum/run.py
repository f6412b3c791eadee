"""Runs every reference notebook of the courses at full size on a GPU and measures the kernels.

`.venv/bin/python bench/gpu-curriculum/run.py [--notebook 09] [--write-docs]`

For each notebook of courses/*/course.toml: executes the instructor's source (reference solutions
and hidden tests) cell by cell in one namespace, as a student's kernel would, with the GPU sizes of
its setup cell, and records each graded cell's verdict (the GPU-only timing cells included) and
the wall time. Then times the kernels named in MEASURE with CUDA events (2 warm-ups, median of 10)
and prints time per launch and achieved GB/s or GFLOP/s against the device's peak (computed from
its attributes). `--write-docs` puts the table between the markers in docs/curriculum.md.
Writes out/results-<host>.json (git-ignored). Without a GPU it only checks that the notebooks
execute (pass --simulator, which sets NUMBA_ENABLE_CUDASIM=1: tiny sizes, no timings).
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import socket
import sys
import time
import tomllib
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "out"
DOC = REPO / "docs" / "curriculum.md"
BEGIN, END = "<!-- gpu-curriculum:begin -->", "<!-- gpu-curriculum:end -->"

# FP32 cores per SM by compute capability (CUDA C Programming Guide, arithmetic instructions).
FP32_PER_SM = {
    (7, 0): 64,
    (7, 5): 64,
    (8, 0): 64,
    (8, 6): 128,
    (8, 7): 128,
    (8, 9): 128,
    (9, 0): 128,
}


def device_peaks() -> dict:
    from numba import cuda

    dev = cuda.get_current_device()
    cc = tuple(dev.compute_capability)
    sms = dev.MULTIPROCESSOR_COUNT
    clock_hz = dev.CLOCK_RATE * 1e3
    bandwidth = 2 * dev.MEMORY_CLOCK_RATE * 1e3 * dev.GLOBAL_MEMORY_BUS_WIDTH / 8
    name = dev.name.decode() if isinstance(dev.name, bytes) else dev.name
    return {
        "name": name,
        "cc": f"{cc[0]}.{cc[1]}",
        "sms": sms,
        "peak_gb_s": bandwidth / 1e9,
        "peak_fp32_gflop_s": 2 * sms * FP32_PER_SM.get(cc, 128) * clock_hz / 1e9,
    }


def course_notebooks() -> list[str]:
    notebooks = []
    for manifest in sorted((REPO / "courses").glob("*/course.toml")):
        data = tomllib.loads(manifest.read_text())
        notebooks += [a["notebook"] for m in data["modules"] for a in m.get("assignments", [])]
    return notebooks


def run_notebook(relative: str) -> tuple[dict, dict]:
    """Execute the source notebook; return its namespace and {grade_id: verdict}."""
    cells = json.loads((REPO / "notebooks" / relative).read_text())["cells"]
    namespace: dict = {"__name__": "__main__"}
    verdicts: dict = {}
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        meta = cell["metadata"].get("nbgrader", {})
        name = f"<{relative}:{index}>"
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        started = time.perf_counter()
        try:
            exec(compile(source, name, "exec"), namespace)
            verdict = "passed"
        except Exception:
            verdict = "failed: " + traceback.format_exc(limit=-2).strip().splitlines()[-1][:300]
        if meta.get("grade"):
            verdicts[meta["grade_id"]] = {
                "verdict": verdict,
                "s": round(time.perf_counter() - started, 3),
            }
    return namespace, verdicts


def median_ms(launch, warmup: int = 2, repeats: int = 10) -> float:
    import numpy as np
    from numba import cuda

    for _ in range(warmup):
        launch()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = cuda.event(), cuda.event()
        start.record()
        launch()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times))


def measure_05(ns):
    from numba import cuda

    n = 1 << 27
    d = cuda.to_device(ns["rng"].random(n, dtype="float32"))
    return [("gpu_sum", f"{n} float32", median_ms(lambda: ns["gpu_sum"](d)), 4 * n, None)]


def measure_09(ns):
    from numba import cuda

    n, tile = ns["GPU_N"], ns["TILE"]
    a, b = ns["random_matrices"](n, n, n, seed=3)
    da, db, dc = cuda.to_device(a), cuda.to_device(b), cuda.device_array((n, n), "float32")
    grid, block = ((n + tile - 1) // tile,) * 2, (tile, tile)
    return [
        (
            k,
            f"{n}^3 float32",
            median_ms(lambda k=k: ns[k][grid, block](da, db, dc)),
            None,
            2.0 * n**3,
        )
        for k in ("matmul_naive", "matmul_tiled")
    ]


def measure_13(ns):
    from numba import cuda

    n = 8192
    src = cuda.to_device(ns["random_matrix"](n, n, seed=1))
    dst = cuda.device_array((n, n), "float32")
    block = ns["BLOCK"]
    rows = []
    for k, grid in (
        ("copy_2d", ns["grid_2d"]((n, n), block)),
        ("transpose_naive", ns["grid_2d"]((n, n), block)),
        ("transpose_tiled", ns["grid_tiles"]((n, n))),
    ):
        rows.append(
            (
                k,
                f"{n}^2 float32",
                median_ms(lambda k=k, g=grid: ns[k][g, block](src, dst)),
                8 * n * n,
                None,
            )
        )
    return rows


def measure_16(ns):
    import numpy as np
    from numba import cuda

    n = 64 << 20
    x, y, out = (cuda.to_device(np.ones(n, np.float32)) for _ in range(3))
    threads = 256
    blocks = 4 * cuda.get_current_device().MULTIPROCESSOR_COUNT * 8
    ms = median_ms(lambda: ns["saxpy"][blocks, threads](np.float32(2.0), x, y, out))
    return [("saxpy", f"{n} float32", ms, 12 * n, 2.0 * n)]


def measure_17(ns):
    from numba import cuda

    rows, cols, tpb = 4096, 1024, ns["TPB"]
    x = cuda.to_device(ns["random_rows"](rows, cols, seed=1))
    out = cuda.device_array((rows, cols), "float32")
    ms = median_ms(lambda: ns["softmax_rows_block"][rows, tpb](x, out))
    return [("softmax_rows_block", f"{rows}x{cols} float32", ms, 8 * rows * cols, None)]


MEASURE = {"05": measure_05, "09": measure_09, "13": measure_13, "16": measure_16, "17": measure_17}


def markdown(device: dict, notebooks: list[dict]) -> str:
    lines = [
        f"Measured on {device['name']} (compute capability {device['cc']}, {device['sms']} SMs; "
        f"peaks from its attributes: {device['peak_gb_s']:.0f} GB/s, "
        f"{device['peak_fp32_gflop_s']:.0f} FP32 GFLOP/s), by `bench/gpu-curriculum/run.py`.",
        "",
        "| notebook | graded cells passed | kernel | size | time per launch | achieved | of peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for nb in notebooks:
        passed = sum(v["verdict"] == "passed" for v in nb["verdicts"].values())
        head = f"| {nb['notebook'].split('/')[-1][:2]} ({nb['notebook'].split('/')[0]}) | {passed}/{len(nb['verdicts'])} "
        if not nb["kernels"]:
            lines.append(head + "| | | | | |")
        for k in nb["kernels"]:
            if k["gflop_s"] is not None and k["gb_s"] is None:
                achieved, share = (
                    f"{k['gflop_s']:.0f} GFLOP/s",
                    k["gflop_s"] / device["peak_fp32_gflop_s"],
                )
            else:
                achieved, share = f"{k['gb_s']:.0f} GB/s", k["gb_s"] / device["peak_gb_s"]
            lines.append(
                head
                + f"| `{k['kernel']}` | {k['size']} | {k['ms']:.3f} ms | {achieved} | {share:.0%} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", help="number prefix, e.g. 09 (repeatable)")
    parser.add_argument(
        "--simulator", action="store_true", help="execute only, under the simulator"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="write the table into docs/curriculum.md"
    )
    args = parser.parse_args()
    if args.simulator:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    os.environ.setdefault("NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS", "0")
    device = None if args.simulator else device_peaks()
    results = []
    for relative in course_notebooks():
        prefix = relative.split("/")[-1][:2]
        if args.notebook and prefix not in args.notebook:
            continue
        started = time.perf_counter()
        namespace, verdicts = run_notebook(relative)
        record = {
            "notebook": relative,
            "wall_s": round(time.perf_counter() - started, 1),
            "verdicts": verdicts,
            "kernels": [],
        }
        if device and relative.startswith("cuda-numba/") and prefix in MEASURE:
            for kernel, size, ms, n_bytes, flops in MEASURE[prefix](namespace):
                record["kernels"].append(
                    {
                        "kernel": kernel,
                        "size": size,
                        "ms": ms,
                        "gb_s": n_bytes / ms / 1e6 if n_bytes else None,
                        "gflop_s": flops / ms / 1e6 if flops else None,
                    }
                )
        failed = {k: v["verdict"] for k, v in verdicts.items() if v["verdict"] != "passed"}
        print(
            f"{relative}: {len(verdicts) - len(failed)}/{len(verdicts)} graded cells passed in {record['wall_s']} s",
            flush=True,
        )
        for grade_id, verdict in failed.items():
            print(f"   {grade_id}: {verdict}")
        for k in record["kernels"]:
            print(
                f"   {k['kernel']} {k['size']}: {k['ms']:.3f} ms, {k['gb_s'] or 0:.0f} GB/s, {k['gflop_s'] or 0:.0f} GFLOP/s"
            )
        results.append(record)
    OUT.mkdir(exist_ok=True)
    (OUT / f"results-{socket.gethostname()}.json").write_text(
        json.dumps({"device": device, "notebooks": results}, indent=1)
    )
    if device and args.write_docs:
        text = DOC.read_text()
        head, rest = text.split(BEGIN)
        _, tail = rest.split(END)
        DOC.write_text(head + BEGIN + "\n" + markdown(device, results) + "\n" + END + tail)
    return (
        0 if all(v["verdict"] == "passed" for r in results for v in r["verdicts"].values()) else 1
    )


if __name__ == "__main__":
    sys.exit(main())
