"""Fixtures of the challenge harness's tests: the test challenge copied where a test may edit it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHALLENGES = Path(__file__).resolve().parents[2] / "fixtures" / "challenges"
AXPY = CHALLENGES / "axpy"
CHEATS = CHALLENGES / "cheats"
ENTRIES = CHALLENGES / "entries"


@pytest.fixture
def axpy_copy(tmp_path: Path) -> Path:
    """A private copy of the axpy challenge (the folder name is its slug)."""
    target = tmp_path / "axpy"
    shutil.copytree(AXPY, target)
    return target
