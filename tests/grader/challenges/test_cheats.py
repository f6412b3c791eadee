"""Each cheat entry in tests/fixtures/challenges/cheats/ is scored against the horner challenge:
none scores, each is stopped for the reason its attack calls for. The honest entry scores in the
same sandbox (test_kernel.py), so these tests fail if the harness stopped scoring anything."""

from __future__ import annotations

import os

import pytest

from .conftest import CHEATS

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0, reason="the filesystem view without the challenge needs root (bwrap)"
)

#: cheat file -> the reason codes that may stop it (one, unless two checks race for it).
EXPECTED = {
    # Reading what an entry must never see: it computes right only with what it found.
    "read_disk": {"wrong-output"},
    "read_env": {"wrong-output"},
    # Caching by identity, shape, a sample of the content; replaying; repeats skipped.
    "cache_by_identity": {"wrong-output"},
    "cache_by_shape": {"wrong-output"},
    "cache_by_content": {"wrong-output"},
    "replay": {"wrong-output"},
    "skip_repeats": {"skips-repeated-inputs"},
    # Precision below the tolerance.
    "low_precision": {"wrong-output"},
    # Monkeypatching the clock, the comparison, the statistics.
    "patch_timer": {"tampered-runtime"},
    "patch_compare": {"tampered-runtime"},
    "patch_statistics": {"tampered-runtime"},
    # Work the timer does not see: side threads, threads and processes outliving a call.
    "side_thread": {"wrong-output"},
    "thread_outlives": {"outlives-call"},
    "process_outlives": {"outlives-call"},
    # Writing to the result channel.
    "forge_channel": {"channel-forged", "wrong-output"},
    # Limits.
    "hang": {"timeout"},
    "memory_hog": {"out-of-memory"},
    # Attacks on the harness's own checks.
    "slip_restore_timer": {"timer-disagrees"},
    "slip_forge_after_output": {"channel-forged"},
    "slip_precompute_between_calls": {"work-outside-call"},
}

#: cheat file -> the flag it must raise: scored (it computes honestly), gains nothing, reviewed.
FLAGGED = {
    # Null calls answered late, so that more of each real call would be taken as the channel's.
    "slip_slow_null_call": "slow-null-call",
}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=ROOT_ONLY) if name.startswith("read_") else name
        for name in EXPECTED
    ],
)
def test_a_cheat_does_not_score(horner_scorer, name):
    result = horner_scorer.score(CHEATS / f"{name}.py")
    assert result.status == "rejected", f"{name} scored: {result.to_json()}"
    assert result.reason_code in EXPECTED[name], (result.reason_code, result.reason)
    assert result.reason
    data = result.to_dict()
    assert data["public"]["score"] is None and data["private"]["score"] is None


@pytest.mark.parametrize("name", list(FLAGGED))
def test_a_flagged_cheat_gains_nothing(horner_scorer, name):
    result = horner_scorer.score(CHEATS / f"{name}.py")
    assert result.status == "scored", (result.reason_code, result.reason)
    assert FLAGGED[name] in result.flags and "too-fast" not in result.flags
    for timing in result.timings:
        # Its null calls were seen as slow, yet only the reference's channel was taken off its
        # calls (test_calibration.py shows the numbers on injected timings).
        assert timing.entry_null_call_s > 0.03 > timing.channel_s > 0
        # The reference's loop: nowhere near the too-fast flag, whatever the load.
        assert 0.1 < timing.speedup < 10


def test_every_cheat_file_has_a_test():
    files = {path.stem for path in CHEATS.glob("*.py")}
    assert files == set(EXPECTED) | set(FLAGGED)
