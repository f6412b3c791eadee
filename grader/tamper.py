"""Canaries: the run-time check that failures are still reported.

The student's code runs in the same interpreter as the tests, so it can change what the tests
see: IPython input transformers or event hooks that rewrite later cells, a silenced
``showtraceback``, patched ``numpy.testing`` or builtins. The static side is the AST policy
(grader/policy.py: a hit holds later points for review). The run-time side is here: before each
graded cell the grader runs a cell that must fail (a false ``assert`` and a failing
``numpy.testing`` check, with random values so it cannot be recognised by content). When a
canary does not fail, the kernel has been tampered with: the cells graded from then on earn
nothing (flag "tampered-runtime" and "review-needed").
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from nbformat import NotebookNode


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
