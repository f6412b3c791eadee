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


def check_idle_work(timed: list[CallRecord]) -> None:
    """Between calls the runner waits on its socket; CPU used then is work the timer misses."""
    idle_cpu = sum(call.idle_cpu_s for call in timed)
    idle_wall = sum(call.idle_wall_s for call in timed)
    if idle_cpu > max(0.005, 0.1 * idle_wall):
        raise Verdict(
            "work-outside-call",
            f"the entry used {idle_cpu * 1e3:.1f} ms of CPU between calls "
            f"({idle_wall * 1e3:.1f} ms of waiting): work the timer does not see",
        )


def check_clocks(entry: list[CallRecord], reference: list[CallRecord]) -> None:
    """The child's own times against the parent's clock. The gap between them (the channel, the
    output copy) is the same work for the entry and the reference: an entry whose gap is far
    larger did work its own clock did not see, or replaced the clock. The smallest gap of each,
    since a loaded machine only ever adds to it, while a cheat's gap is there on every call."""
    for call in entry:
        if call.reported_s > call.wall_s + CLOCK_SLACK_S or call.reported_s < 0:
            raise Verdict(
                "timer-disagrees",
                f"the entry's clock said {call.reported_s * 1e3:.3f} ms for a call the grader "
                f"timed at {call.wall_s * 1e3:.3f} ms",
            )
    # The thread that called the entry used more CPU in the call than the entry's clock saw.
    cpu_entry = statistics.median(c.main_cpu_s - c.reported_s for c in entry)
    cpu_reference = statistics.median(c.main_cpu_s - c.reported_s for c in reference)
    reported_reference = statistics.median(c.reported_s for c in reference)
    if cpu_entry > max(0.0, cpu_reference) + max(3e-4, 0.2 * reported_reference):
        raise Verdict(
            "timer-disagrees",
            f"the calling thread computed {cpu_entry * 1e3:.3f} ms per call beyond what the "
            f"entry's clock said (the reference's: {cpu_reference * 1e3:.3f} ms)",
        )
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


def check_repeats(repeated: list[CallRecord], fresh: list[CallRecord]) -> None:
    """An honest kernel takes as long on an input it has seen as on a new one (the caches are
    flushed before each call). The fastest of each, since a loaded machine only ever adds time:
    the fastest of the many fresh calls is close to the true time, and a remembered answer
    skips the work altogether (tens of times faster on a compute-bound kernel)."""
    if not repeated or not fresh:
        return
    ratio = min(c.wall_s for c in repeated) / min(c.wall_s for c in fresh)
    if ratio < 0.5:
        raise Verdict(
            "skips-repeated-inputs",
            f"the entry ran a repeated input in {ratio:.0%} of the time of its fastest new one: "
            "it remembers inputs instead of computing",
        )
