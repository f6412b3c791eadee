"""``python -m grader score --challenge DIR --submission FILE [--json]``: score one entry.

With --json, stdout holds one ScoreResult as JSON whatever the exit code (docs/challenges.md):
0 scored, 3 rejected (the entry's fault), 4 bad challenge, 5 sandbox error, 6 grader error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .result import EXIT_BAD_CHALLENGE, EXIT_GRADER, EXIT_SANDBOX, ScoreResult


def add_score_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("score", help="score one entry of a kernel or predictions challenge")
    s.add_argument("--challenge", required=True, type=Path, help="the challenge folder")
    s.add_argument("--submission", required=True, type=Path, help="the entry (.py or .csv)")
    s.add_argument("--json", action="store_true", help="print the ScoreResult as JSON")
    s.add_argument(
        "--fast",
        action="store_true",
        help="few timed runs and the first shape only (tests; also env KC_SCORE_FAST=1)",
    )
    s.add_argument(
        "--seed-set",
        choices=("public", "private", "both"),
        default="both",
        help="which seeds to time a kernel entry on (default both)",
    )
    s.add_argument(
        "--sandbox-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="process sandbox constructor option, VALUE as JSON when it parses",
    )


def score_entry(
    challenge: str | Path,
    submission: str | Path,
    *,
    fast: bool = False,
    seed_set: str = "both",
    sandbox_options: dict | None = None,
) -> ScoreResult:
    """Score one entry; every outcome, failures included, is a ScoreResult."""
    from ..sandbox import SandboxError
    from .spec import ChallengeError, load_challenge

    challenge = Path(challenge)
    try:
        spec = load_challenge(challenge)
    except ChallengeError as exc:
        return ScoreResult.error(challenge.name, "", exc.code, exc.message, EXIT_BAD_CHALLENGE)
    try:
        if spec.kind == "predictions":
            from .predictions import score_predictions

            return score_predictions(spec, Path(submission))
        from .kernel import score_kernel

        return score_kernel(
            spec,
            Path(submission),
            fast=fast,
            seed_set=seed_set,
            sandbox_options=sandbox_options or {},
        )
    except ChallengeError as exc:
        return ScoreResult.error(spec.slug, spec.kind, exc.code, exc.message, EXIT_BAD_CHALLENGE)
    except SandboxError as exc:
        reason = f"the sandbox failed: {str(exc)[:1000]}"
        return ScoreResult.error(spec.slug, spec.kind, "sandbox-error", reason, EXIT_SANDBOX)
    except Exception as exc:  # noqa: BLE001 - the caller always gets an answer it can parse
        reason = f"the grader failed: {type(exc).__name__}: {str(exc)[:500]}"
        return ScoreResult.error(spec.slug, spec.kind, "grader-error", reason, EXIT_GRADER)


def _summary(result: ScoreResult) -> str:
    lines = [f"{result.challenge}: {result.status}"]
    if result.reason:
        lines[0] += f" ({result.reason_code}: {result.reason})"
    for name in ("public", "private"):
        score = getattr(result, name).get("score")
        if score is not None:
            lines.append(f"  {name} {result.ranked_by}: {score:.4g}")
    for t in result.timings:
        lines.append(
            f"  {t.seed_set:<8} {json.dumps(t.shape):<28} entry {t.entry_median_s * 1e3:9.3f} ms"
            f"  reference {t.reference_median_s * 1e3:9.3f} ms  x{t.speedup:.3g}"
            f"  ({t.runs} runs, sem {t.rel_sem:.2%})"
        )
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    return "\n".join(lines)


def run_score(args: argparse.Namespace) -> int:
    from ..__main__ import _sandbox_options  # the grade command's KEY=VALUE parsing

    fast = args.fast or os.environ.get("KC_SCORE_FAST") == "1"
    result = score_entry(
        args.challenge,
        args.submission,
        fast=fast,
        seed_set=args.seed_set,
        sandbox_options=_sandbox_options(args.sandbox_option),
    )
    if result.status != "scored":
        print(f"{result.status}: {result.reason_code}: {result.reason}", file=sys.stderr)
    print(result.to_json() if args.json else _summary(result))
    return result.exit_code
