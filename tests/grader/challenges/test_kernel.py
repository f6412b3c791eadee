"""The kernel harness on an honest entry: it scores, with the parent's timings and both boards."""

from __future__ import annotations

import json
import math

from grader.challenges.result import ScoreResult, geometric_mean

from .conftest import ENTRIES


def test_an_honest_entry_scores(horner_scorer):
    result = horner_scorer.score(ENTRIES / "honest.py")
    assert result.status == "scored", result.reason
    assert result.ranked_by == "speedup" and result.device == "cpu"
    assert {t.seed_set for t in result.timings} == {"public", "private"}
    for timing in result.timings:
        assert timing.runs >= 3 and timing.entry_median_s > 0 and timing.reference_median_s > 0
        # The same loop as the reference: nowhere near the too-fast flag, whatever the load.
        assert 0.1 < timing.speedup < 10
        # The channel's round trip was measured in the run, in both children, and taken out.
        assert timing.channel_s > 0 and timing.entry_null_call_s > 0
        assert timing.uncorrected_speedup > 0
    assert not set(result.flags) & {"too-fast", "faster-than-roofline", "slow-null-call"}
    data = json.loads(result.to_json())
    assert data["public"]["score"] > 0 and data["private"]["score"] > 0
    assert data["harness_version"] == 2 and "error_exit" not in data


def test_geometric_mean_cannot_underflow():
    # A product of 400 speed-ups of 1e-3 is 1e-1200: zero in floating point, not in log space.
    assert math.isclose(geometric_mean([1e-3] * 400), 1e-3)
    assert math.isclose(geometric_mean([1e300, 1e300, 1e-300]), 1e100)


def test_a_rejected_result_carries_no_score():
    result = ScoreResult("x", "kernel", public={"score": 3.0, "detail": {}})
    result.status, result.reason_code = "rejected", "wrong-output"
    assert json.loads(result.to_json())["public"]["score"] is None
    assert result.exit_code == 3


def test_too_fast_and_faster_than_roofline_are_flagged_not_rejected():
    from types import SimpleNamespace

    from grader.challenges.kernel import KernelScorer
    from grader.challenges.result import Timing

    spec = SimpleNamespace(kernel=SimpleNamespace(max_speedup_flag=10.0))
    scorer = SimpleNamespace(spec=spec, bandwidth=10e9)  # 10 GB/s measured in the same run

    def timing(entry_s: float, reference_s: float) -> Timing:
        return Timing({"n": 1}, "public", entry_s, reference_s, reference_s / entry_s, 0.01, 10)

    plain = ScoreResult("x", "kernel")
    KernelScorer._record(scorer, plain, "public", [(timing(1e-3, 2e-3), 1_000_000)])
    assert plain.flags == [] and math.isclose(plain.public["score"], 2.0)

    fast = ScoreResult("x", "kernel")
    KernelScorer._record(scorer, fast, "public", [(timing(1e-3, 2e-2), 1_000_000)])
    assert fast.flags == ["too-fast"] and fast.status == "scored"

    # 100 MB moved in 1 ms is 100 GB/s, ten times what this machine copies.
    roof = ScoreResult("x", "kernel")
    KernelScorer._record(scorer, roof, "public", [(timing(1e-3, 2e-3), 100_000_000)])
    assert roof.flags == ["faster-than-roofline"]
