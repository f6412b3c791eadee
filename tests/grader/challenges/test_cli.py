"""``python -m grader score``: one JSON object on stdout whatever happens, and the exit codes of
docs/challenges.md. One run goes through a fresh process end to end (the CUDA challenge on the
simulator, ranked by correctness); the failures run in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grader.__main__ import main

from .conftest import CHALLENGES, ENTRIES, HORNER

REPO = Path(__file__).resolve().parents[3]


def test_a_cuda_challenge_without_a_gpu_ranks_by_correctness():
    env = {**os.environ, "KC_SCORE_FAST": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "score", "--json",
         "--challenge", str(CHALLENGES / "vadd-cuda"),
         "--submission", str(ENTRIES / "vadd_honest.py")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    result = json.loads(proc.stdout)
    assert proc.returncode == 0, (proc.stderr[-2000:], result)
    assert result["status"] == "scored" and result["ranked_by"] == "correctness"
    assert result["device"] == "cuda-simulator" and result["timings"] == []
    assert result["public"]["score"] == 1.0 and result["private"]["score"] == 1.0


def _run(capsys, *args: str) -> tuple[int, dict]:
    code = main(["score", "--json", "--fast", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_bad_challenge_is_exit_4_with_its_code(capsys, tmp_path):
    code, result = _run(
        capsys, "--challenge", str(tmp_path), "--submission", str(ENTRIES / "honest.py")
    )
    assert code == 4
    assert result["status"] == "error" and result["reason_code"] == "missing-manifest"
    assert result["public"]["score"] is None


def test_an_unreadable_entry_is_rejected_exit_3(capsys, tmp_path):
    missing = tmp_path / "nothing.py"
    code, result = _run(capsys, "--challenge", str(HORNER), "--submission", str(missing))
    assert code == 3
    assert result["status"] == "rejected" and result["reason_code"] == "bad-submission"
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    code, result = _run(capsys, "--challenge", str(HORNER), "--submission", str(binary))
    assert (code, result["reason_code"]) == (3, "bad-submission")
