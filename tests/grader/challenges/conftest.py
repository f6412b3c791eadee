"""Fixtures of the challenge harness's tests: the test challenge copied where a test may edit it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHALLENGES = Path(__file__).resolve().parents[2] / "fixtures" / "challenges"
HORNER = CHALLENGES / "horner"
CHEATS = CHALLENGES / "cheats"
ENTRIES = CHALLENGES / "entries"


@pytest.fixture
def horner_copy(tmp_path: Path) -> Path:
    """A private copy of the horner challenge (the folder name is its slug)."""
    target = tmp_path / "horner"
    shutil.copytree(HORNER, target)
    return target


@pytest.fixture(scope="session")
def horner_scorer():
    """One sandbox and one reference child for every entry the tests score (fast rules)."""
    from grader.challenges.kernel import KernelScorer
    from grader.challenges.spec import load_challenge

    with KernelScorer(load_challenge(HORNER), fast=True) as scorer:
        yield scorer
