"""Command line: ``python -m grader grade --source S.ipynb --submission X.ipynb [--json]``.

``python -m grader score --challenge DIR --submission FILE [--json]`` scores a challenge entry
(``grader/challenges/cli.py``; its exit codes are in docs/challenges.md).

Exit codes:
  0  graded (whatever the score; flags such as review-needed are in the output)
  2  usage error (argparse)
  3  the submission was rejected as unreadable (a result with 0 points is still printed)
  4  the source notebook is invalid
  5  the sandbox could not start a kernel
  6  the grader itself failed (a bug; the result says where)

With --json, stdout always holds one JSON result, whatever the exit code: for 4, 5 and 6 it has
no cells, 0 points, and the flag invalid-source, sandbox-error or grader-error with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_REJECTED, EXIT_BAD_SOURCE, EXIT_SANDBOX, EXIT_GRADER = 0, 3, 4, 5, 6


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one submission against an instructor source")
    g.add_argument("--source", required=True, type=Path, help="instructor source notebook")
    g.add_argument("--submission", required=True, type=Path, help="student notebook")
    g.add_argument("--json", action="store_true", help="print the GradeResult as JSON")
    g.add_argument("--no-feedback", action="store_true", help="leave feedback_html out of JSON")
    g.add_argument("--feedback", type=Path, help="also write the feedback HTML here")
    g.add_argument("--device", default="auto", help="auto, simulator or gpu (default auto)")
    g.add_argument("--notebook-timeout", type=float, help="seconds for the whole notebook")
    g.add_argument("--cell-timeout", type=float, help="seconds per cell")
    g.add_argument("--sandbox", default="process", help="registered sandbox (default process)")
    g.add_argument(
        "--sandbox-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="sandbox constructor option, VALUE as JSON when it parses (fork_server=false)",
    )
    from .challenges.cli import add_score_parser

    add_score_parser(sub)
    return parser


def _sandbox_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def _summary(result) -> str:
    lines = [f"score {result.score:g} / {result.max_score:g} on {result.device}"]
    for cell in result.cells:
        first = cell.message.splitlines()[0] if cell.message else ""
        pts = f"{cell.points:g}/{cell.max_points:g}" if cell.counted else "-"
        lines.append(f"  {cell.grade_id:<24} {cell.status:<22} {pts:<8} {first}")
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    lines.extend(f"  - {reason}" for reason in result.reasons)
    return "\n".join(lines)


def _failure(args: argparse.Namespace, flag: str, reason: str, code: int) -> int:
    """Report a run that produced no grade: a line on stderr, and with --json a result."""
    print(f"error: {reason}", file=sys.stderr)
    if args.json:
        from .result import GradeResult

        res = GradeResult(cells=[], score=0.0, max_score=0.0, device=args.device)
        res.flag(flag, reason)
        print(res.to_json(include_feedback=False))
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "score":
        from .challenges.cli import run_score

        return run_score(args)
    try:
        return _grade(args)
    except Exception as exc:  # noqa: BLE001 - the caller always gets an answer it can parse
        reason = f"the grader failed: {type(exc).__name__}: {str(exc)[:500]}"
        return _failure(args, "grader-error", reason, EXIT_GRADER)


def _grade(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from . import Limits, Worker, result
    from .sandbox import SandboxError
    from .source import SourceError, read_notebook

    limits = Limits()
    if args.notebook_timeout:
        limits = replace(limits, notebook_timeout=args.notebook_timeout)
    if args.cell_timeout:
        limits = replace(limits, cell_timeout=args.cell_timeout)
    try:
        source = read_notebook(args.source, str(args.source))
    except SourceError as exc:
        return _failure(args, "invalid-source", str(exc), EXIT_BAD_SOURCE)
    try:
        submission = args.submission.read_bytes()
    except OSError as exc:
        reason = f"cannot read {args.submission}: {exc.strerror}"
        return _failure(args, result.INVALID_SUBMISSION, reason, EXIT_REJECTED)
    try:
        options = _sandbox_options(args.sandbox_option)
        with Worker(
            limits, args.device, warm=False, sandbox=args.sandbox, sandbox_options=options
        ) as worker:
            res = worker.grade(source, submission, name=args.submission.name)
    except SourceError as exc:
        return _failure(args, "invalid-source", str(exc), EXIT_BAD_SOURCE)
    except SandboxError as exc:
        return _failure(args, "sandbox-error", f"sandbox: {exc}", EXIT_SANDBOX)
    if args.feedback:
        args.feedback.write_text(res.feedback_html, encoding="utf-8", errors="replace")
    if args.json:
        print(res.to_json(include_feedback=not args.no_feedback))
    else:
        print(_summary(res))
    return EXIT_REJECTED if result.INVALID_SUBMISSION in res.flags else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
