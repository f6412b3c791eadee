"""The channel's round trip taken out of the parent's clock (grader/challenges/calibration.py),
on injected timings: fake children whose every call and null call takes a set time, driven
through the harness's own series, so every number below is exact (no clock is read)."""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from grader.challenges.calibration import (
    MIN_CALL_S,
    NULL_CPU_SLACK_S,
    calibrate,
    corrected,
    null_work_s,
    slow_null_call,
)
from grader.challenges.channel import CallRecord, NullRecord
from grader.challenges.kernel import Harness, KernelScorer
from grader.challenges.result import ScoreResult
from grader.challenges.timing import FAST_RULES
from grader.challenges.verdicts import Verdict, check_clocks

MS = 1e-3


class FakeChild:
    """A child whose calls take ``work`` by its own clock plus ``channel`` on the way, and whose
    null calls take ``null`` (the channel, or whatever an entry makes of it)."""

    def __init__(self, work: float, channel: float, null: float | None = None, report=None):
        self.work, self.channel = work, channel
        self.null = channel if null is None else null
        self.report = work if report is None else report
        self.tampered: list[str] = []
        self.calls = self.nulls = 0

    def call(self, inputs, capacity, timeout, flush) -> CallRecord:
        self.calls += 1
        output = np.zeros(4, dtype=np.float32)
        return CallRecord(self.work + self.channel, self.report, output, 0.0, 0.0, 1, self.work,
                          self.work)  # fmt: skip

    def null_call(self, timeout, flush) -> NullRecord:
        self.nulls += 1
        return NullRecord(self.null, 20e-6)

    def threads(self) -> int:
        return 1

    def refuse_unasked_bytes(self, wait: float = 0.0) -> None:
        pass


def run_series(reference: FakeChild, entry: FakeChild):
    kernel = SimpleNamespace(device="cpu", rtol=1e-5, atol=1e-6, max_speedup_flag=10.0)
    spec = SimpleNamespace(kernel=kernel, limits=SimpleNamespace(time_s=60))
    scorer = SimpleNamespace(
        spec=spec,
        rules=FAST_RULES,
        make_inputs=lambda seed, shape: (np.full(4, seed % 7, dtype=np.float32),),
        flush=None,
        reference=reference,
    )
    harness = Harness(scorer, entry, deadline=math.inf)
    timing, _ = harness.series({"n": 4}, (1, 2), "public")
    return timing


def test_the_channel_is_taken_out_of_both_clocks():
    # The reference works 2 ms, the entry 1 ms, the channel adds 3 ms to each: 5 / 4 = 1.25 by
    # the parent's clock as it was, 2 / 1 = 2 once the null calls' 3 ms are taken out.
    reference, entry = FakeChild(2 * MS, 3 * MS), FakeChild(1 * MS, 3 * MS)
    timing = run_series(reference, entry)
    assert math.isclose(timing.uncorrected_speedup, 1.25)
    assert math.isclose(timing.speedup, 2.0)
    assert math.isclose(timing.entry_median_s, 1 * MS)
    assert math.isclose(timing.reference_median_s, 2 * MS)
    assert math.isclose(timing.channel_s, 3 * MS) and math.isclose(timing.entry_null_call_s, 3 * MS)
    # One null call per child before every pair of calls.
    assert entry.nulls == entry.calls == reference.nulls == reference.calls


def test_an_entry_that_answers_null_calls_slowly_gains_nothing():
    # It answers its null calls 40 ms late and reports 55 % of its time (the least the CPU-time
    # check lets through): were its own null calls taken off, 43 ms would come off each 4 ms
    # call, leaving the floor of its own report, 0.55 ms, a speed-up of 3.6. The reference's
    # channel is taken off instead: the honest 2.
    reference = FakeChild(2 * MS, 3 * MS)
    entry = FakeChild(1 * MS, 3 * MS, null=43 * MS, report=0.55 * MS)
    timing = run_series(reference, entry)
    assert math.isclose(timing.speedup, 2.0)
    assert math.isclose(timing.channel_s, 3 * MS)
    assert math.isclose(timing.entry_null_call_s, 43 * MS)
    result = ScoreResult("x", "kernel")
    scorer = SimpleNamespace(spec=SimpleNamespace(kernel=SimpleNamespace(max_speedup_flag=10.0)),
                             bandwidth=None)  # fmt: skip
    KernelScorer._record(scorer, result, "public", [(timing, 16)])
    assert result.flags == ["slow-null-call"] and result.status == "scored"


def test_the_entry_own_null_calls_change_nothing_of_its_time():
    # Faster null calls (noise under load, or a trimmed runner) take no less off the entry than
    # off the reference: the speed-up is the same 2 whatever the entry's null calls said.
    for null in (2 * MS, 3 * MS, 4 * MS):
        timing = run_series(FakeChild(2 * MS, 3 * MS), FakeChild(1 * MS, 3 * MS, null=null))
        assert math.isclose(timing.speedup, 2.0) and math.isclose(timing.entry_median_s, 1 * MS)


def test_calibrate_takes_a_low_quantile_of_the_reference_and_the_fastest_of_both():
    ref = [NullRecord(w * MS, 0.0) for w in (3, 2, 5)]
    slow = [NullRecord(w * MS, 0.0) for w in (40, 1, 50)]
    calibration = calibrate(ref, slow)
    assert calibration.overhead_s == 2 * MS and calibration.entry_median_s == 40 * MS
    assert calibration.entry_low_s == 1 * MS  # the clock check only loosens with it
    assert calibrate([], slow).overhead_s == 0.0  # no null calls: nothing is taken out


class LoadedChild(FakeChild):
    """A machine under load: every null call waits a different time for a core, most a little,
    some a lot, on top of a fixed 0.4 ms round trip; the timed call that follows it at once finds
    its child awake and waits a quarter of that."""

    WAITS = [0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0]

    def __init__(self, work: float) -> None:
        super().__init__(work, 0.4 * MS)
        self.turn = 0

    def _wait(self) -> float:
        self.turn += 1
        return self.WAITS[(self.turn * 7) % len(self.WAITS)] * MS

    def call(self, inputs, capacity, timeout, flush) -> CallRecord:
        record = super().call(inputs, capacity, timeout, flush)
        return replace(record, wall_s=record.wall_s + self._wait() / 4)

    def null_call(self, timeout, flush) -> NullRecord:
        self.nulls += 1
        return NullRecord(self.null + self._wait(), 20e-6)


def test_a_loaded_machine_never_scores_an_entry_above_its_true_speedup():
    # Reference 2 ms of work, entry 1 ms: the true speed-up is 2. With the null calls' median
    # taken off (more than the timed calls waited), the entry's calls came out near nothing and
    # the speed-up above 3; a low quantile keeps it between the uncorrected and the true one.
    timing = run_series(LoadedChild(2 * MS), LoadedChild(1 * MS))
    assert timing.uncorrected_speedup <= timing.speedup <= 2.0 + 1e-9


def test_a_corrected_time_never_drops_below_its_floor():
    def call(wall, reported):
        return CallRecord(wall, reported, np.zeros(1), 0.0, 0.0, 1)

    assert math.isclose(corrected(call(5 * MS, 1 * MS), 3 * MS), 2 * MS)
    # This call's own round trip was shorter than the median: the child's clock is the floor.
    assert corrected(call(5 * MS, 4.5 * MS), 3 * MS) == 4.5 * MS
    # A child reporting more than the parent saw is held to the parent's clock.
    assert corrected(call(5 * MS, 9 * MS), 3 * MS) == 5 * MS
    assert corrected(call(5 * MS, 0.0), 10 * MS) == MIN_CALL_S


def test_slow_null_call_flag_and_null_work():
    assert not slow_null_call(3 * MS, 3 * MS) and not slow_null_call(None, 3 * MS)
    assert slow_null_call(40 * MS, 3 * MS)
    ref = [NullRecord(0.0, 50e-6)] * 5
    assert null_work_s([NullRecord(0.0, 60e-6)] * 5, ref) == 0.0
    # Beyond twice the reference's median and the slack: 1.1 ms - 0.1 ms - 0.1 ms, twice.
    assert math.isclose(
        null_work_s([NullRecord(0.0, 1.1e-3)] * 2, ref), 2 * (1e-3 - NULL_CPU_SLACK_S)
    )


def test_the_clock_check_takes_the_channel_out_first():
    def call(wall, reported):
        return CallRecord(wall, reported, np.zeros(1), 0.0, 0.0, 1, reported, reported)

    honest = [call(4 * MS, 1 * MS)] * 3
    check_clocks(honest, honest, entry_channel_s=3 * MS)
    # 3.5 ms claimed of a 4 ms call whose channel alone takes 3 ms: more than was left.
    with pytest.raises(Verdict) as caught:
        check_clocks([call(4 * MS, 3.5 * MS)] * 3, honest, entry_channel_s=3 * MS)
    assert caught.value.code == "timer-disagrees"
    check_clocks([call(4 * MS, 3.5 * MS)] * 3, honest)  # as it was: within the parent's clock
