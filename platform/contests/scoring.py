"""Scoring one entry: the body of the `score_next_entry` task.

The worker runs `python -m grader score --challenge DIR --submission FILE --json` in a child
process (the harness sandboxes the entry itself) and stores its JSON (docs/challenges.md). The
entry, its board rows and the board version are written in one transaction, only by the latest
claim. A result that says `error`, or no result at all, is the platform's fault: the entry keeps
whatever it had before and gives back its quota.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contests import queue
from contests.boards import refresh_rows
from contests.models import Challenge, Entry
from contests.publishing import unpacked_challenge
from contests.services import bump_board, give_back_quota

log = logging.getLogger(__name__)

#: The harness enforces the challenge's own time limit; this only catches a harness that hangs.
OUTER_MARGIN_S = 60.0
#: Any flag the harness raises ("too-fast", "faster-than-roofline"...) keeps a scored entry off
#: the board until an organizer ranks it (docs/challenges.md).
_OUTCOMES = {0: "scored", 3: "rejected"}


def run_scorer(challenge_dir: Path, submission: Path, time_s: float) -> dict:
    """The harness's JSON, or an `error` result saying why there was none."""
    command = [
        sys.executable,
        "-m",
        "grader",
        "score",
        "--challenge",
        str(challenge_dir),
        "--submission",
        str(submission),
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": str(settings.REPO_DIR)}
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            timeout=time_s * 2 + OUTER_MARGIN_S,
            cwd=settings.REPO_DIR,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _error("harness-timeout", "The scoring harness did not finish in time.")
    try:
        result = json.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = proc.stderr.decode("utf-8", "replace")[-800:]
        return _error("harness-output", f"exit {proc.returncode}, no JSON result. {tail}")
    if not isinstance(result, dict) or result.get("status") not in {"scored", "rejected", "error"}:
        return _error("harness-output", f"exit {proc.returncode}, an unreadable result")
    if result["status"] != "error" and _OUTCOMES.get(proc.returncode) != result["status"]:
        return _error("harness-exit", f"exit {proc.returncode} with status {result['status']}")
    return result


def _error(code: str, reason: str) -> dict:
    return {"status": "error", "reason_code": code, "reason": reason, "flags": []}


def _score(part) -> float | None:
    if not isinstance(part, dict):
        return None
    value = part.get("score")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def score_entry(entry: Entry, attempt: int) -> str:
    challenge = entry.challenge
    suffix = ".py" if challenge.kind == Challenge.Kind.KERNEL else ".csv"
    try:
        folder = unpacked_challenge(challenge)
        with tempfile.TemporaryDirectory(prefix="kc-entry-") as scratch:
            path = Path(scratch) / f"entry{suffix}"
            path.write_bytes(bytes(entry.file))
            os.chmod(scratch, 0o755)
            os.chmod(path, 0o644)
            time_s = float(challenge.manifest.get("limits", {}).get("time_s", 120))
            with queue.Heartbeat(entry.pk, attempt):
                result = run_scorer(folder, path, time_s)
    except Exception as exc:  # the platform broke, not the entry
        log.exception("scoring entry %s failed", entry.pk)
        result = _error("platform", f"{type(exc).__name__}: {exc}")
    return "recorded" if record_result(entry.pk, attempt, result) else "superseded"


def record_result(entry_id: int, attempt: int, result: dict) -> bool:
    """Store the result, the competitor's board rows and a new board version, all at once."""
    with transaction.atomic():
        entry = (
            Entry.objects.select_for_update()
            .select_related("challenge", "challenge__event")
            .filter(pk=entry_id, attempts=attempt, status=Entry.Status.RUNNING)
            .first()
        )
        if entry is None:
            log.warning("entry %s: attempt %s lost its lease; result dropped", entry_id, attempt)
            return False
        challenge = entry.challenge
        status = result.get("status")
        entry.finished_at = timezone.now()
        entry.lease_expires_at = None
        entry.reason_code = str(result.get("reason_code", ""))[:40]
        entry.reason = str(result.get("reason", ""))[:4000]
        if status == "error":
            # Keep what a previous run found (a rescore that broke changes nothing).
            previous = (entry.result or {}).get("status")
            entry.status = {"scored": Entry.Status.SCORED, "rejected": Entry.Status.REJECTED}.get(
                previous, Entry.Status.ERROR
            )
            if entry.status == Entry.Status.ERROR:
                entry.result = result
                give_back_quota(entry)
        else:
            flags = [str(f) for f in result.get("flags") or []]
            entry.result = result
            entry.flags = flags
            entry.scored_version = challenge.version
            entry.public_score = _score(result.get("public")) if status == "scored" else None
            entry.private_score = _score(result.get("private")) if status == "scored" else None
            entry.status = Entry.Status.SCORED if status == "scored" else Entry.Status.REJECTED
            entry.ranked = status == "scored" and entry.public_score is not None and not flags
            ranked_by = result.get("ranked_by")
            if ranked_by in Challenge.RankedBy.values and ranked_by != challenge.ranked_by:
                Challenge.objects.filter(pk=challenge.pk).update(ranked_by=ranked_by)
                challenge.ranked_by = ranked_by
        entry.save()
        refresh_rows(challenge, entry.competitor)
        bump_board(challenge)
    return True


def score_next() -> str:
    """Claim the entry the fair order picks and score it; 'idle' when nothing is queued."""
    claimed = queue.claim_next()
    if claimed is None:
        return "idle"
    entry, attempt = claimed
    return score_entry(entry, attempt)
