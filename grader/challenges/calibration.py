"""The channel's own round trip, and the parent's clock with it taken out.

The parent times a call from its request to the reply, so every time it measures holds the
channel's round trip as well: both wake-ups, the framing, the runner's loop, the output written
back. The reference and the entry pay the same, which keeps the ranking but pulls every
speed-up toward 1 (under load a 0.95 ms call measured 5.5 ms). So each pair of calls is
preceded by a null call to each child, which does all that but call the entry
(``Child.null_call``), and a series' medians are taken of the parent's clock less a low quantile
(OVERHEAD_QUANTILE) of the reference's null calls.

A low quantile, not the median: every call paid at least the round trip that the quick null calls
paid, so taking that much off never takes off more than a call's own round trip, and a speed-up
can only come out between the uncorrected one and the true one. On a loaded machine the null
calls spread out (one wait for a core turns a 0.4 ms round trip into 5 ms), the median then
exceeds what many timed calls paid, and taking it off both times inflated a 2.4x kernel to 5.08x
in one scoring: a board must never rank an entry above what it did.

The child runs the entry's code, so it can answer its own null calls as slowly as it likes, to
have more taken off its real calls. So what is taken off both children's calls is what the
reference's child (trusted code) measured, interleaved with the entry's in the same series: the
entry's own null calls never change its time. (The smaller of the two medians was tried: under
load the two medians differ by more than a small kernel's time, and the minimum then always
took less off the entry than off the reference.) An entry whose null calls are much slower
than the reference's is flagged for review. A corrected time never falls below what the
child's own clock saw of the call (an honest runner's time of the entry alone; a child can only
raise its own time with it) nor below MIN_CALL_S.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .channel import CallRecord, NullRecord

#: The share of the reference's null calls faster than what is taken out of every call.
OVERHEAD_QUANTILE = 0.1
#: No corrected call is shorter than this.
MIN_CALL_S = 1e-6
#: The entry's median null call may be this many times the reference's, plus SLOW_NULL_SLACK_S,
#: before the result is flagged ``slow-null-call``: null calls are interleaved with the
#: reference's, so a loaded machine slows both alike.
SLOW_NULL_FACTOR = 3.0
SLOW_NULL_SLACK_S = 5e-4
#: CPU seconds a null call of the entry's child may use beyond twice the reference's median
#: before the excess counts as work outside a call (an honest one uses 50-80 us here, with
#: outliers to 200 us).
NULL_CPU_SLACK_S = 1e-4


@dataclass(frozen=True)
class Calibration:
    """What one series' null calls say. ``overhead_s`` (a low quantile of the reference's null
    calls) is taken off both children's scored times; ``entry_low_s`` (the fastest null call of either child, which
    no honest call's own round trip undercuts) off the parent's clock before it is held against
    the entry's clock, call by call; ``entry_median_s`` is the entry's own, for the flag."""

    overhead_s: float = 0.0
    entry_low_s: float = 0.0
    entry_median_s: float = 0.0


def slow_null_call(entry_s: float | None, reference_s: float | None) -> bool:
    """The entry's median null call was much slower than the reference's."""
    if entry_s is None or reference_s is None:
        return False
    return entry_s > SLOW_NULL_FACTOR * reference_s + SLOW_NULL_SLACK_S


NO_CALIBRATION = Calibration()


def calibrate(reference: list[NullRecord], entry: list[NullRecord]) -> Calibration:
    """The overheads to take out of the calls. Without null calls of both children, nothing is
    taken out."""
    if not reference or not entry:
        return NO_CALIBRATION
    return Calibration(
        overhead_s=low_quantile([n.wall_s for n in reference], OVERHEAD_QUANTILE),
        entry_low_s=min(n.wall_s for n in reference + entry),
        entry_median_s=statistics.median(n.wall_s for n in entry),
    )


def low_quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile, rounded down: a value that was seen, never interpolated."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered))))]


def corrected(call: CallRecord, overhead_s: float) -> float:
    """The parent's clock of one call less ``overhead_s``, never below what the child's clock
    saw of the call (when the parent's clock agrees it is possible) nor below MIN_CALL_S."""
    floor = max(MIN_CALL_S, min(call.reported_s, call.wall_s))
    return max(call.wall_s - overhead_s, floor)


def null_work_s(entry: list[NullRecord], reference: list[NullRecord]) -> float:
    """CPU seconds the entry's child used in its null calls beyond twice what the reference's
    used in its median one, plus NULL_CPU_SLACK_S (the runner's loop costs both the same): work
    done outside any timed call. No input of the coming call is in its memory yet, so such work
    can only be bookkeeping an honest call would pay for (a collection of garbage, say)."""
    if not entry:
        return 0.0
    allowance = 2 * statistics.median(n.cpu_s for n in reference) if reference else 0.0
    allowance += NULL_CPU_SLACK_S
    return sum(max(0.0, n.cpu_s - allowance) for n in entry)
