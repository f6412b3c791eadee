"""What the parent concludes from what it measured: each cheat's signature, as a reason code.

Every check reads only what the parent saw (its own clock, /proc, the outputs it copied), except
the tamper list, which the runner reports and which is defence in depth: a runner silenced by the
entry changes none of the other checks.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np

from .channel import CallRecord

#: A child-reported time may exceed the parent's by this much (clock granularity).
CLOCK_SLACK_S = 1e-4


class Verdict(Exception):
    """The entry is rejected: ``code`` is the reason code of docs/challenges.md."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def check_output(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> None:
    """The entry's output against the reference's for the same inputs."""
    if got.shape != expected.shape:
        raise Verdict("wrong-output", f"output shape {got.shape}, expected {expected.shape}")
    if got.dtype != expected.dtype:
        raise Verdict("wrong-output", f"output dtype {got.dtype}, expected {expected.dtype}")
    if got.dtype.kind in "fc":
        close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = got == expected
    if not close.all():
        bad = int(close.size - np.count_nonzero(close))
        worst = ""
        if got.dtype.kind in "fc":
            error = np.abs(got.astype(np.float64) - expected.astype(np.float64))
            worst = f", largest error {np.nanmax(error):.3g} (rtol {rtol:g}, atol {atol:g})"
        raise Verdict("wrong-output", f"{bad} of {close.size} elements differ{worst}")


@dataclass
class SeriesRecord:
    """All calls of one child in one series, by role."""

    fresh: list[CallRecord] = field(default_factory=list)
    repeat: list[CallRecord] = field(default_factory=list)
    timed: list[CallRecord] = field(default_factory=list)
    #: Every call after the first (which compiles): for the clock check.
    settled: list[CallRecord] = field(default_factory=list)


def check_tampering(tampered: list[str]) -> None:
    if tampered:
        names = ", ".join(tampered[:6])
        raise Verdict("tampered-runtime", f"the entry replaced functions it must not: {names}")


def check_threads(timed: list[CallRecord], baseline: int) -> None:
    """Threads or processes the entry started in a call must end with it."""
    extra = max((call.threads_after for call in timed), default=baseline) - baseline
    if extra > 0:
        raise Verdict(
            "outlives-call",
            f"{extra} thread(s) or process(es) started by the entry were still running after a "
            "call returned: work the timer does not see",
        )


def check_idle_work(timed: list[CallRecord], null_work: float = 0.0) -> None:
    """Between calls the runner waits on its socket; CPU used then is work the timer misses.
    ``null_work``: CPU seconds the child used in its null calls beyond the reference's."""
    idle_cpu = sum(call.idle_cpu_s for call in timed) + null_work
    idle_wall = sum(call.idle_wall_s for call in timed)
    # An honest runner blocked on its socket uses tens of microseconds per gap; a thread that
    # watches or computes uses what the machine gives it, which on a loaded machine is little.
    if idle_cpu > 0.002 + 0.01 * idle_wall:
        raise Verdict(
            "work-outside-call",
            f"the entry used {idle_cpu * 1e3:.1f} ms of CPU between calls "
            f"({idle_wall * 1e3:.1f} ms of waiting): work the timer does not see",
        )


def check_clocks(
    entry: list[CallRecord],
    reference: list[CallRecord],
    wall_gap: bool = False,
    entry_channel_s: float = 0.0,
) -> None:
    """The child's own times against the parent's clock. The gap between them (the channel, the
    output copy) is the same work for the entry and the reference: an entry whose gap is far
    larger did work its own clock did not see, or replaced the clock. The smallest gap of each,
    since a loaded machine only ever adds to it, while a cheat's gap is there on every call.
    ``entry_channel_s``: the fastest null call of either child, taken out of the parent's clock
    first: no call's own round trip is faster, so an honest child's time still fits in what is
    left."""
    entry_channel = entry_channel_s
    for call in entry:
        wall = call.wall_s - entry_channel
        if call.reported_s > wall + CLOCK_SLACK_S or call.reported_s < 0:
            raise Verdict(
                "timer-disagrees",
                f"the entry's clock said {call.reported_s * 1e3:.3f} ms for a call the grader "
                f"timed at {call.wall_s * 1e3:.3f} ms, {entry_channel * 1e3:.3f} ms of which "
                "its channel's round trip",
            )
    # The thread that called the entry used more CPU in the call than the entry's clock saw
    # (the runner's own work around the call, measured on the reference, aside). Only when the
    # clock saw under half of that CPU time: preemption on a loaded machine makes an honest
    # clock see more than the CPU time, never less.
    excess = statistics.median(c.main_cpu_s - c.reported_s for c in entry)
    runner_cpu = max(0.0, statistics.median(c.main_cpu_s - c.reported_s for c in reference))
    seen = statistics.median(c.reported_s for c in entry)
    used = statistics.median(c.main_cpu_s for c in entry)
    if excess > max(5e-4, 2 * runner_cpu + 2e-4) and seen < 0.5 * used:
        raise Verdict(
            "timer-disagrees",
            f"the calling thread computed {used * 1e3:.3f} ms per call, the entry's clock saw "
            f"{seen * 1e3:.3f} ms (the runner's own work: {runner_cpu * 1e3:.3f} ms)",
        )
    if not wall_gap:  # on a CPU the checks above see all work; the wall clock adds only noise
        return
    # Both gaps hold the same channel, so it is left in: taking it out of both would tighten a
    # comparison that has not yet run on a GPU.
    gap_entry = min(c.wall_s - c.reported_s for c in entry)
    gap_reference = min(c.wall_s - c.reported_s for c in reference)
    wall_reference = min(c.wall_s for c in reference)
    allowed = 2 * gap_reference + 5e-4 + 0.05 * wall_reference
    if gap_entry > allowed:
        raise Verdict(
            "timer-disagrees",
            f"the entry's clock missed at least {gap_entry * 1e3:.3f} ms of every call that the "
            f"grader's clock saw (the reference's missed {gap_reference * 1e3:.3f} ms)",
        )


#: A call must use at least this much CPU for its repeat probe to say anything.
MIN_PROBE_CPU_S = 2e-4


def check_repeats(repeated: list[CallRecord], fresh: list[CallRecord]) -> None:
    """An honest kernel does as much work on an input it has seen as on a new one. Measured in
    CPU time of the child's threads in the call (from /proc), which a loaded machine does not
    inflate as it does the wall clock; a remembered answer skips the work altogether."""
    if not repeated or not fresh:
        return
    fresh_cpu = statistics.median(c.call_cpu_s for c in fresh)
    repeat_cpu = statistics.median(c.call_cpu_s for c in repeated)
    # Below a fifth of a millisecond a call's own bookkeeping is most of its CPU time. The floor
    # was 1 ms, which let a remembered answer through on a 0.6 ms call (found in CI).
    if fresh_cpu > MIN_PROBE_CPU_S and repeat_cpu < 0.5 * fresh_cpu:
        raise Verdict(
            "skips-repeated-inputs",
            f"the entry used {repeat_cpu / fresh_cpu:.0%} of the CPU time on a repeated input "
            "that it uses on a new one: it remembers inputs instead of computing",
        )
