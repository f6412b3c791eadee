"""What scoring one challenge entry produces: the JSON object of ``docs/challenges.md``."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

#: 2: on a CPU the parent's clock less the channel's round trip (calibration.py).
HARNESS_VERSION = 2

SCORED = "scored"
#: The entry's fault (wrong, crashed, too slow, a cheat): counts against a team's quota.
REJECTED = "rejected"
#: The platform's fault (a bad challenge, the sandbox failed): does not count.
ERROR = "error"

# Flags on a scored result: scored, but not ranked until an organizer reviews it.
TOO_FAST = "too-fast"
FASTER_THAN_ROOFLINE = "faster-than-roofline"
#: The entry's null calls (answered without calling it) were much slower than the reference's.
SLOW_NULL_CALL = "slow-null-call"

EXIT_SCORED, EXIT_REJECTED, EXIT_BAD_CHALLENGE, EXIT_SANDBOX, EXIT_GRADER = 0, 3, 4, 5, 6


@dataclass
class Timing:
    """One shape and one seed set: medians of the parent's clock over paired timed calls."""

    shape: dict
    seed_set: str
    entry_median_s: float
    reference_median_s: float
    speedup: float
    rel_sem: float
    runs: int
    #: The entry's own median time as its child reported it (cross-checked, never scored).
    entry_reported_median_s: float | None = None
    #: The channel's round trip taken out of the parent's clock, the entry's and the
    #: reference's: the reference's median null call (calibration.py).
    channel_s: float | None = None
    #: For review: the entry's own median null call, and the parent's clock's speed-up as it was.
    entry_null_call_s: float | None = None
    uncorrected_speedup: float | None = None


@dataclass
class ScoreResult:
    challenge: str
    kind: str
    status: str = SCORED
    reason_code: str = ""
    reason: str = ""
    ranked_by: str = "speedup"
    higher_is_better: bool = True
    public: dict = field(default_factory=lambda: {"score": None, "detail": {}})
    private: dict = field(default_factory=lambda: {"score": None, "detail": {}})
    flags: list[str] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    device: str = "cpu"
    harness_version: int = HARNESS_VERSION
    #: For status "error": which exit code the command line gives (not part of the JSON).
    error_exit: int = field(default=EXIT_GRADER, repr=False)

    @classmethod
    def rejected(cls, challenge: str, kind: str, code: str, reason: str, **extra) -> ScoreResult:
        return cls(challenge, kind, status=REJECTED, reason_code=code, reason=reason, **extra)

    @classmethod
    def error(
        cls,
        challenge: str,
        kind: str,
        code: str,
        reason: str,
        exit_code: int = EXIT_GRADER,
        **extra,
    ) -> ScoreResult:
        """``exit_code``: EXIT_BAD_CHALLENGE, EXIT_SANDBOX or EXIT_GRADER."""
        return cls(
            challenge,
            kind,
            status=ERROR,
            reason_code=code,
            reason=reason,
            error_exit=exit_code,
            **extra,
        )

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    @property
    def exit_code(self) -> int:
        if self.status == SCORED:
            return EXIT_SCORED
        if self.status == REJECTED:
            return EXIT_REJECTED
        return self.error_exit

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["error_exit"]
        if self.status != SCORED:  # a rejected or failed entry has no score, whatever was timed
            data["public"] = {"score": None, "detail": data["public"].get("detail", {})}
            data["private"] = {"score": None, "detail": data["private"].get("detail", {})}
        return _finite(data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)


def _finite(value):
    """JSON has no NaN or infinity: they become null rather than an unparseable document."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def geometric_mean(values: list[float]) -> float:
    """exp(mean(log v)): never underflows to 0 or overflows for any count of positive values
    (a product of a hundred speed-ups of 0.01 is 1e-200 before the root is taken)."""
    if not values or any(not (v > 0 and math.isfinite(v)) for v in values):
        raise ValueError("a geometric mean needs positive, finite values")
    return math.exp(math.fsum(math.log(v) for v in values) / len(values))
