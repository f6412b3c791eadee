"""Scored challenges: the manifest (spec), the kernel timing harness, the result and its CLI."""

from .result import ScoreResult, Timing
from .spec import ChallengeError, ChallengeSpec, load_challenge

__all__ = ["ChallengeError", "ChallengeSpec", "ScoreResult", "Timing", "load_challenge"]
