"""The kernel harness's speed-up against the true one (issue 12, point 2): how much the channel's
round trip, which the parent's clock holds, pulls a speed-up toward 1, and how much of it the
null-call calibration (grader/challenges/calibration.py) gives back.

    .venv/bin/python bench/harness-timing/run.py                   # 3 scorings now, true ratio
    .venv/bin/python bench/harness-timing/run.py --before 9391123  # and 3 with that commit's grader

The entry is fast_softmax.py, a row-softmax kernel really faster than the reference. The true
ratio is timed in this process with timeit (best of 7 repeats of 50 calls, each shape, on one
input, caches warm), and again under the harness's conditions (`cold`: a new input and the
cache flush before each call, the output copied after it). Each scoring is a whole `python -m grader score --json --seed-set public` at the
manifest's shapes, full rules. `--before REV` extracts that commit's grader/ (git archive) into a
temporary folder and scores with it too, so the "before" figures come from the code as it was,
not from the new code's uncorrected ratio (which each result also carries).

Prints a table and writes out/results-<host>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHALLENGE = ROOT / "challenges" / "row-softmax"
ENTRY = HERE / "fast_softmax.py"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shapes() -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from grader.challenges.spec import load_challenge

    return list(load_challenge(CHALLENGE).kernel.shapes)


def true_ratios() -> list[dict]:
    """Reference time / entry time of one call, in this process (no channel, no sandbox)."""
    make_inputs = load(CHALLENGE / "inputs.py", "rs_inputs").make_inputs
    reference = load(CHALLENGE / "reference.py", "rs_reference").solve
    entry = load(ENTRY, "rs_entry").solve
    found = []
    for shape in shapes():
        (x,) = make_inputs(12345, shape)
        reference(x), entry(x)  # compile
        times = {}
        for name, solve in (("reference", reference), ("entry", entry)):
            runs = timeit.repeat(lambda s=solve, a=x: s(a), number=50, repeat=7)
            times[name] = min(runs) / 50
        found.append({"shape": shape, **times, "ratio": times["reference"] / times["entry"]})
    return found


def cold_ratios() -> list[dict]:
    """The same under the harness's conditions, still in this process: before each call a new
    input written into one buffer and the cache flush (timing.py's buffer), the output copied
    into another after it; medians of 200 calls. What is left between this and a scoring is
    what the channel's calibration does not take out."""
    from grader.challenges.timing import DEFAULT_RULES, cache_flush_buffer

    make_inputs = load(CHALLENGE / "inputs.py", "rs_inputs").make_inputs
    solvers = {"reference": load(CHALLENGE / "reference.py", "rs_reference").solve,
               "entry": load(ENTRY, "rs_entry").solve}  # fmt: skip
    flush = cache_flush_buffer(DEFAULT_RULES.flush_cap_bytes)
    found = []
    for shape in shapes():
        inputs = [make_inputs(seed, shape)[0] for seed in range(20)]
        place, back = np.empty_like(inputs[0]), np.empty_like(inputs[0])
        times = {}
        for name, solve in solvers.items():
            solve(inputs[0])
            samples = []
            for index in range(200):
                np.copyto(place, inputs[index % len(inputs)])
                flush += 1
                start = time.perf_counter()
                back[...] = solve(place)
                samples.append(time.perf_counter() - start)
            times[name] = statistics.median(samples)
        found.append({"shape": shape, **times, "ratio": times["reference"] / times["entry"]})
    return found


def score(grader_root: Path) -> dict:
    """One scoring by the grader under ``grader_root`` (its grader/ package wins on sys.path)."""
    env = {**os.environ, "PYTHONPATH": str(grader_root)}
    command = [sys.executable, "-m", "grader", "score", "--challenge", str(CHALLENGE),
               "--submission", str(ENTRY), "--json", "--seed-set", "public"]  # fmt: skip
    done = subprocess.run(command, cwd=grader_root, env=env, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != "scored":
        raise SystemExit(f"not scored: {result['reason_code']}: {result['reason']}")
    return result


def extract(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", rev, "grader"], cwd=ROOT, capture_output=True,
                             check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a commit whose grader/ is scored as well")
    args = parser.parse_args()

    report: dict = {"host": socket.gethostname(), "load_before": os.getloadavg()}
    report["true"] = true_ratios()
    report["cold"] = cold_ratios()
    for label in ("true", "cold"):
        for row in report[label]:
            print(f"{label} {json.dumps(row['shape']):<28} reference "
                  f"{row['reference'] * 1e3:8.3f} ms  entry {row['entry'] * 1e3:8.3f} ms  "
                  f"x{row['ratio']:.2f}")  # fmt: skip
    roots = {"after": ROOT}
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            roots = {"before": extract(args.before, Path(scratch)), **roots}
        for label, root in roots.items():
            report[label] = []
            for number in range(args.runs):
                result = score(root)
                report[label].append(result)
                for t in result["timings"]:
                    extra = ""
                    if "channel_s" in t:
                        extra = (f"  (uncorrected x{t['uncorrected_speedup']:.2f}, channel "
                                 f"{t['channel_s'] * 1e3:.3f} ms, entry's null "
                                 f"{t['entry_null_call_s'] * 1e3:.3f} ms)")  # fmt: skip
                    print(f"{label:<6} run {number + 1} {json.dumps(t['shape']):<28} "
                          f"entry {t['entry_median_s'] * 1e3:8.3f} ms  reference "
                          f"{t['reference_median_s'] * 1e3:8.3f} ms  x{t['speedup']:.2f}  "
                          f"{t['runs']} runs{extra}", flush=True)  # fmt: skip
    report["load_after"] = os.getloadavg()
    for label in roots:
        for index, shape in enumerate(shapes()):
            speedups = [r["timings"][index]["speedup"] for r in report[label]]
            print(f"{label:<6} {json.dumps(shape):<28} speed-ups "
                  f"{', '.join(f'{s:.2f}' for s in speedups)}  median {statistics.median(speedups):.2f}")  # fmt: skip
    print(f"load {report['load_before'][0]:.2f} -> {report['load_after'][0]:.2f}")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / f"results-{socket.gethostname()}.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
