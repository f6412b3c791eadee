"""Every parse of student source in the grader goes through grader.pyparse's lock: CPython 3.11's
AST conversion keeps its recursion depth per interpreter, and two threads parsing at once failed
a CI run with "SystemError: AST constructor recursion depth mismatch" (a pool of graders)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import grader
from grader import policy_ast, pyparse

GRADER = Path(grader.__file__).parent
#: Runs only in its own single-threaded child process (the NVVM compile), never in a grader's.
IN_A_CHILD = {"gpu_compile.py"}


def test_no_module_of_the_grader_parses_around_the_lock():
    direct = re.compile(r"\bast\.parse\(")
    offenders = [
        str(path.relative_to(GRADER))
        for path in GRADER.rglob("*.py")
        if path.name not in IN_A_CHILD | {"pyparse.py"} and direct.search(path.read_text())
    ]
    assert offenders == []


def test_a_parse_waits_for_the_one_in_progress(monkeypatch):
    # Hold the lock as a parse in another thread would: a cell parsed now must wait for it.
    finished = threading.Event()

    def parse_cell() -> None:
        policy_ast.parse_cell("x = 1\n")
        finished.set()

    with pyparse._LOCK:
        worker = threading.Thread(target=parse_cell)
        worker.start()
        assert not finished.wait(0.3)
    worker.join(10)
    assert finished.is_set()
