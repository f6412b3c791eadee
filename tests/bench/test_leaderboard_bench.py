"""bench/leaderboard at a tiny size (4 teams, 200 entries, 20 requests/s for 2 s), so the bench
cannot rot: it fills the test database, serves it with the run command's gunicorn config, drives
the board page, the board JSON and the event page open loop, then the same with the naive board,
and writes its figures and plot. Figures are not checked (speed lives in bench/), only that every
request was answered, and that the materialized board and the naive aggregate agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def test_leaderboard_bench_runs_at_a_tiny_size(django_db_setup, settings, tmp_path):
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        pytest.skip("the bench's smoke test shares the SQLite test database with gunicorn")
    done = subprocess.run(
        [
            sys.executable,
            "bench/leaderboard/run.py",
            "--tiny",
            "--database-url",
            f"sqlite:///{database['NAME']}",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["agree"], "the materialized board and the naive aggregate differ"
    assert results["teams"] == 4 and results["entries"] == 200
    for label in ("materialized", "naive"):
        measured = results[label]["all"]
        assert measured["requests"] == 40 and measured["errors"] == 0, (label, measured)
    assert "naive / materialized" in done.stdout
    assert (tmp_path / "latency-vs-rate.png").stat().st_size > 10_000
