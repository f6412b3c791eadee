"""Cheats that cannot be prevented inside the kernel, and how they are detected.

The student's code runs in the same interpreter as the tests, so it can change what the tests
see: IPython input transformers or event hooks that rewrite later cells, a silenced
``showtraceback``, patched ``numpy.testing`` or builtins. Two detectors:

1. a static scan of every cell the student controls for the mechanisms those cheats need
   (flag "review-needed"; points are kept, a person decides, since ``get_ipython`` has honest
   uses);
2. canaries: before each graded cell the grader runs a cell that must fail (a false ``assert`` and
   a failing ``numpy.testing`` check, with random values so it cannot be recognised by content).
   When a canary does not fail, the kernel has been tampered with: the cells graded from then on
   earn nothing (flag "tampered-runtime" and "review-needed").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from nbformat import NotebookNode


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    why: str


def _p(name: str, regex: str, why: str) -> Pattern:
    return Pattern(name, re.compile(regex), why)


PATTERNS: tuple[Pattern, ...] = (
    _p(
        "input-transformer",
        r"input_transformers|ast_transformers|InputTransformer",
        "registers an IPython input/AST transformer (can rewrite the test cells)",
    ),
    _p(
        "event-hook",
        r"\.events\s*\.\s*(register|callbacks)|register_post_execute",
        "registers an IPython event hook (runs code around the test cells)",
    ),
    _p(
        "traceback-hook",
        r"showtraceback|set_custom_exc|excepthook|_showtraceback",
        "replaces exception display (can hide a failing test)",
    ),
    _p(
        "run-cell-hook",
        r"\.(run_cell|run_code|run_ast_nodes|transform_cell)\s*=",
        "replaces how IPython runs cells",
    ),
    _p(
        "testing-patch",
        r"\btesting\s*\.\s*\w+\s*=|setattr\s*\(\s*[\w.]*testing\b",
        "assigns into numpy.testing (can make assertions pass)",
    ),
    _p(
        "assert-patch",
        r"\b(assert_\w+|AssertionError)\s*=[^=]",
        "rebinds an assertion helper or AssertionError",
    ),
    _p(
        "builtins-patch",
        r"__builtins__|\bbuiltins\s*\.\s*\w+\s*=|import\s+builtins",
        "changes Python builtins",
    ),
    _p(
        "trace-hook",
        r"sys\s*\.\s*(settrace|setprofile)|sys\.monitoring",
        "installs a tracing hook (can alter running tests)",
    ),
    _p("module-table", r"sys\s*\.\s*modules\s*\[[^\]]+\]\s*=", "replaces a module in sys.modules"),
    _p(
        "stderr-swap",
        r"sys\s*\.\s*(stderr|stdout)\s*=",
        "replaces sys.stderr/stdout (nbgrader scores stderr output as a failure)",
    ),
)


def scan_code(cells: list[tuple[int, str]]) -> list[str]:
    """Reasons, one per (cell, pattern) found, for the cells the student controls."""
    reasons = []
    for index, source in cells:
        for pattern in PATTERNS:
            if pattern.regex.search(source):
                reasons.append(f"cell {index + 1}: {pattern.why} [{pattern.name}]")
    return reasons


@dataclass(frozen=True)
class Canary:
    code: str


def make_canary(rng: random.Random | None = None) -> Canary:
    """A cell that must raise. Random values keep it from being recognised by its text.

    It binds no names in the user namespace (the student's ``np`` may not be numpy).
    """
    rng = rng or random.SystemRandom()
    a = rng.randint(2, 10**6)
    b = a + rng.randint(1, 10**6)
    x, y = rng.uniform(1, 100), rng.uniform(200, 300)
    checks = [
        f"assert {a} == {b}, 'expected {a} to equal {b}'",
        f"__import__('numpy').testing.assert_allclose([{x:.6f}], [{y:.6f}])",
        f"__import__('numpy').testing.assert_array_equal([{a}], [{b}])",
    ]
    rng.shuffle(checks)
    # Each check alone must fail; run them so that passing one does not hide the next.
    lines = ["_kc_f = 0"]
    for check in checks:
        lines += ["try:", f"    {check}", "except AssertionError:", "    _kc_f += 1"]
    lines += ["if _kc_f == 3:", "    del _kc_f", f"    raise AssertionError('{a} != {b}')"]
    code = "\n".join(lines)
    # The marker variable name is randomised as well.
    return Canary(code.replace("_kc_f", f"_v{rng.randint(10**5, 10**6)}"))


def canary_held(outputs: list[NotebookNode]) -> bool:
    """A canary holds (the kernel is honest) when the cell ended in an AssertionError."""
    return any(
        out.get("output_type") == "error" and out.get("ename") == "AssertionError"
        for out in outputs
    )
