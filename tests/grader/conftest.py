"""Shared fixtures for the grading engine's tests (no Django involved)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ATTACKS = FIXTURES / "attacks"
sys.path.insert(0, str(ATTACKS))

import build  # noqa: E402  (tests/fixtures/attacks/build.py)

from grader import Limits, Worker  # noqa: E402
from grader.source import read_notebook  # noqa: E402

#: Short limits keep the attack tests quick; the loops still hit them.
# Cell limits are CPU time, but the notebook limit and the interrupt grace are wall clock: on a
# loaded 2-core machine a 4 s CPU loop took 38 s of wall time and ran into a 40 s notebook limit,
# so the wall-clock bounds here leave room (the production defaults are 120 s and 5 s).
TEST_LIMITS = Limits(
    cell_timeout=4.0, notebook_timeout=120.0, interrupt_grace=5.0, memory_bytes=1536 * 1024**2
)


@pytest.fixture(scope="session")
def source():
    return read_notebook(FIXTURES / "grader-source.ipynb", "grader-source.ipynb")


@pytest.fixture(scope="session")
def worker():
    with Worker(TEST_LIMITS, "simulator") as w:
        yield w


def fixture_bytes(name: str) -> bytes:
    return (ATTACKS / f"{name}.ipynb").read_bytes()


def sandbox_uids() -> set[int]:
    """uids of live processes in the sandbox uid range (64000..64063)."""
    uids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except OSError:
                continue
            if 64000 <= uid < 64064:
                uids.add(uid)
    return uids


__all__ = ["ATTACKS", "FIXTURES", "TEST_LIMITS", "build", "fixture_bytes", "sandbox_uids"]
