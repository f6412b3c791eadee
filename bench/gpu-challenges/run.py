"""Score the demo kernel challenges' reference (and baseline) kernels at full size, several times,
and print how much the scores move: the coefficient of variation of repeated scores (issue 12,
point 8).

    .venv/bin/python bench/gpu-challenges/run.py                  # every kernel challenge here
    .venv/bin/python bench/gpu-challenges/run.py --repeats 8 --challenge challenges/row-softmax
    .venv/bin/python bench/gpu-challenges/run.py --entries reference --seed-set public

A CUDA challenge needs a GPU (nvidia-smi answers); without one it is skipped, since the
simulator times nothing. Its shapes in challenge.toml are simulator sizes, so this script
scores it at the full sizes of FULL_SHAPES instead. A CPU challenge runs anywhere, at the
manifest's own shapes. Each repeat is a whole scoring by the real harness (warm-up, cache or L2
flush before each call, paired calls until the standard error is under 0.5 % or a cap, medians),
through one KernelScorer per challenge, as a rescoring of a whole challenge runs. The reference
scored against itself should give 1.0; how far its repeats spread is the noise a board shows.

Prints a table and writes out/results-<host>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform as host_platform
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from grader.__main__ import _sandbox_options  # noqa: E402  (the score command's KEY=VALUE)
from grader.challenges.kernel import KernelScorer  # noqa: E402
from grader.challenges.spec import ChallengeSpec, load_challenge  # noqa: E402
from grader.device import resolve_device  # noqa: E402

#: Sizes for a real GPU, where the manifests' simulator sizes would time only a launch.
FULL_SHAPES: dict[str, list[dict[str, int]]] = {
    "vector-add-cuda": [{"n": 1 << 24}, {"n": (1 << 24) + 3}],
}
OUT = Path(__file__).resolve().parent / "out"


def cv(values: list[float]) -> float:
    """Coefficient of variation: sample standard deviation over the mean (0 for one value)."""
    if len(values) < 2:
        return 0.0
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else math.inf


def kernel_challenges(paths: list[str]) -> list[ChallengeSpec]:
    folders = [Path(p) for p in paths] or sorted(
        p.parent for p in (ROOT / "challenges").glob("*/challenge.toml")
    )
    specs = [load_challenge(folder) for folder in folders]
    return [spec for spec in specs if spec.kind == "kernel"]


def at_full_size(spec: ChallengeSpec) -> ChallengeSpec:
    shapes = FULL_SHAPES.get(spec.slug)
    if not shapes or spec.kernel.device != "cuda":
        return spec
    return dataclasses.replace(spec, kernel=dataclasses.replace(spec.kernel, shapes=tuple(shapes)))


def entry_paths(spec: ChallengeSpec, names: list[str]) -> dict[str, Path]:
    paths = {}
    for name in names:
        path = spec.root / f"{name}.py"
        if path.is_file():
            paths[name] = path
    return paths


def score_repeatedly(spec: ChallengeSpec, entries: dict[str, Path], args) -> dict:
    report = {"challenge": spec.slug, "device": spec.kernel.device, "entries": {}}
    report["shapes"] = list(spec.kernel.shapes)
    options = _sandbox_options(args.sandbox_option)
    with KernelScorer(spec, seed_set=args.seed_set, sandbox_options=options) as scorer:
        for name, path in entries.items():
            runs = []
            for repeat in range(args.repeats):
                started = time.monotonic()
                result = scorer.score(path)
                wall = time.monotonic() - started
                runs.append({"wall_s": wall, **result.to_dict()})
                summary = " ".join(
                    f"{board} {getattr(result, board)['score']:.4f}"
                    for board in ("public", "private")
                    if getattr(result, board).get("score") is not None
                )
                print(
                    f"  {spec.slug} {name} #{repeat + 1}: {result.status} {summary} "
                    f"{' '.join(result.flags)} ({wall:.1f} s)",
                    flush=True,
                )
            report["entries"][name] = {"runs": runs, "summary": summarize(runs)}
    return report


def summarize(runs: list[dict]) -> dict:
    scored = [run for run in runs if run["status"] == "scored"]
    summary = {"scored": len(scored), "of": len(runs)}
    for board in ("public", "private"):
        scores = [run[board]["score"] for run in scored if run[board]["score"] is not None]
        if scores:
            summary[board] = {
                "mean": statistics.fmean(scores),
                "min": min(scores),
                "max": max(scores),
                "cv": cv(scores),
            }
    series: dict[str, dict[str, list[float]]] = {}
    for run in scored:
        for timing in run["timings"]:
            key = f"{timing['seed_set']} {json.dumps(timing['shape'], sort_keys=True)}"
            entry = series.setdefault(key, {"entry": [], "reference": [], "runs": [], "sem": []})
            entry["entry"].append(timing["entry_median_s"])
            entry["reference"].append(timing["reference_median_s"])
            entry["runs"].append(timing["runs"])
            entry["sem"].append(timing["rel_sem"])
    summary["series"] = {
        key: {
            "entry_median_s": statistics.median(s["entry"]),
            "entry_cv": cv(s["entry"]),
            "reference_median_s": statistics.median(s["reference"]),
            "reference_cv": cv(s["reference"]),
            "runs_median": statistics.median(s["runs"]),
            "rel_sem_max": max(s["sem"]),
        }
        for key, s in series.items()
    }
    summary["wall_s_median"] = statistics.median(run["wall_s"] for run in runs)
    summary["flags"] = sorted({flag for run in scored for flag in run["flags"]})
    summary["rejections"] = sorted(
        {f"{run['reason_code']}: {run['reason'][:120]}" for run in runs if run not in scored}
    )
    return summary


def print_table(reports: list[dict]) -> None:
    print()
    header = (
        f"{'challenge':<18} {'entry':<10} {'board':<8} {'mean':>8} {'min':>8} {'max':>8} {'CV':>7}"
    )
    print(header)
    print("-" * len(header))
    for report in reports:
        for name, data in report["entries"].items():
            s = data["summary"]
            for board in ("public", "private"):
                if board in s:
                    b = s[board]
                    print(
                        f"{report['challenge']:<18} {name:<10} {board:<8} {b['mean']:8.4f} "
                        f"{b['min']:8.4f} {b['max']:8.4f} {b['cv']:7.2%}"
                    )
            for key, t in s["series"].items():
                print(
                    f"{'':<18} {'':<10} {key:<40} entry {t['entry_median_s'] * 1e3:9.4f} ms "
                    f"(CV {t['entry_cv']:.2%}), reference {t['reference_median_s'] * 1e3:9.4f} ms "
                    f"(CV {t['reference_cv']:.2%}), {t['runs_median']:.0f} runs, "
                    f"sem <= {t['rel_sem_max']:.2%}"
                )
            extra = s["flags"] + s["rejections"]
            print(
                f"{'':<18} {'':<10} scored {s['scored']}/{s['of']}, "
                f"{s['wall_s_median']:.1f} s a scoring" + (f"; {', '.join(extra)}" if extra else "")
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--challenge", action="append", default=[], help="a challenge folder")
    parser.add_argument("--repeats", type=int, default=5, help="scorings per entry (default 5)")
    parser.add_argument(
        "--entries",
        default="reference,baseline",
        help="entry files of the challenge folder to score, by name (default reference,baseline)",
    )
    parser.add_argument("--seed-set", choices=("public", "private", "both"), default="both")
    parser.add_argument(
        "--sandbox-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="process sandbox option, as for python -m grader score",
    )
    args = parser.parse_args()

    device = resolve_device("auto")
    print(f"device: {device.label}; host {socket.gethostname()} ({host_platform.processor()})")
    reports = []
    for spec in kernel_challenges(args.challenge):
        if spec.kernel.device == "cuda" and device.simulator:
            print(
                f"{spec.slug}: skipped, a CUDA challenge needs a GPU (the simulator times nothing)"
            )
            continue
        spec = at_full_size(spec)
        print(f"{spec.slug}: shapes {list(spec.kernel.shapes)}", flush=True)
        entries = entry_paths(spec, args.entries.split(","))
        reports.append(score_repeatedly(spec, entries, args))
    if not reports:
        print("nothing scored")
        return 1
    print_table(reports)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"results-{socket.gethostname()}.json"
    path.write_text(json.dumps({"device": device.label, "reports": reports}, indent=1))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
