"""The benchmark corpus: submissions derived from the source notebook."""

from __future__ import annotations

import json
import random

from common import SOURCE

from grader.source import (  # noqa: E402
    SOLUTION_BEGIN,
    SOLUTION_END,
    make_release,
    notebook_bytes,
    read_notebook,
)

# ----------------------------------------------------------------------------------- corpus
#: Answer cells in notebook order and the exercises they complete.
ANSWERS = ["ex1-add-ten", "ex2-weighted-sum", "ex3-scale-shift", "ex4-launch-helpers"]

#: Bugs students make, as (answer cell, replace this, with that) applied to the solution.
WRONG = {
    "ex1-offset": (
        "ex1-add-ten",
        "cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x",
        "cuda.threadIdx.x",
    ),
    "ex1-plus-one": ("ex1-add-ten", "a[i] + 10", "a[i] + 1"),
    "ex2-no-weight": ("ex2-weighted-sum", "2 * a[i] + b[i]", "a[i] + b[i]"),
    "ex3-no-guard": (
        "ex3-scale-shift",
        "    if i < a.size:\n        out[i] = alpha * a[i] + beta",
        "    out[i] = alpha * a[i] + beta",
    ),
    "ex4-floor": (
        "ex4-launch-helpers",
        "(n + threads_per_block - 1) // threads_per_block",
        "n // threads_per_block",
    ),
    "ex4-no-relu": ("ex4-launch-helpers", "out[i] = v if v > 0 else 0", "out[i] = v"),
}

LOOPS = {
    # Interruptible: the cell gets KeyboardInterrupt at the cell timeout in both systems.
    "loop-python": ("ex4-launch-helpers", None, "while True:\n    pass\n\n"),
    # A simulated CUDA kernel that never returns. Whether the interrupt reaches it is a race:
    # sometimes the cell ends with KeyboardInterrupt, sometimes the kernel has to be killed.
    "loop-cuda": (
        "ex3-scale-shift",
        "    i = cuda.grid(1)\n    if i < a.size:",
        "    i = cuda.grid(1)\n    while True:\n        pass\n    if i < a.size:",
    ),
}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solved(cell_source: str) -> str:
    """The answer a student would write: the solution region without its markers."""
    return "\n".join(
        line
        for line in cell_source.splitlines()
        if SOLUTION_BEGIN not in line and SOLUTION_END not in line
    )


def build_corpus(n: int, seed: int = 7) -> tuple[bytes, list[dict]]:
    """Return the source bytes and N submissions: {name, kind, detail, data}."""
    source = read_notebook(SOURCE, SOURCE.name)
    release = make_release(source, SOURCE.name)
    solutions = {_grade_id(c): _solved(c.source) for c in source.cells if _grade_id(c) in ANSWERS}

    def submission(answers: dict[str, str]) -> bytes:
        nb = release.copy()
        nb = json.loads(json.dumps(nb))  # deep copy as plain dicts
        from nbformat import from_dict

        nb = from_dict(nb)
        for cell in nb.cells:
            gid = _grade_id(cell)
            if gid in answers:
                cell.source = answers[gid]
        return notebook_bytes(nb)

    def solved_upto(k: int) -> dict[str, str]:
        return {gid: solutions[gid] for gid in ANSWERS[:k]}

    def mutated(table: dict, key: str) -> dict[str, str]:
        gid, old, new = table[key]
        answers = solved_upto(len(ANSWERS))
        if old is None:
            answers[gid] = new + answers[gid]
        else:
            assert old in answers[gid], (key, old)
            answers[gid] = answers[gid].replace(old, new)
        return answers

    # Mix (fractions of N): 40 % correct, 25 % partial, 20 % wrong, 5 % blank, 10 % looping.
    plan: list[tuple[str, str]] = []
    n_loop = max(2, round(0.10 * n))
    n_blank = max(1, round(0.05 * n))
    n_wrong = round(0.20 * n)
    n_partial = round(0.25 * n)
    n_correct = n - n_loop - n_blank - n_wrong - n_partial
    plan += [("correct", "all exercises")] * n_correct
    plan += [("blank", "release as given")] * n_blank
    wrong_keys = list(WRONG)
    plan += [("wrong", wrong_keys[i % len(wrong_keys)]) for i in range(n_wrong)]
    plan += [("partial", f"first {1 + i % 3} of 4 answers") for i in range(n_partial)]
    loop_keys = list(LOOPS)
    plan += [("looping", loop_keys[i % len(loop_keys)]) for i in range(n_loop)]
    random.Random(seed).shuffle(plan)

    corpus = []
    for i, (kind, detail) in enumerate(plan):
        if kind == "correct":
            answers = solved_upto(len(ANSWERS))
        elif kind == "blank":
            answers = {}
        elif kind == "wrong":
            answers = mutated(WRONG, detail)
        elif kind == "partial":
            answers = solved_upto(int(detail.split()[1]))
        else:
            answers = mutated(LOOPS, detail)
        corpus.append(
            {
                "name": f"s{i:03d}-{kind}",
                "kind": kind,
                "detail": detail,
                "data": submission(answers),
            }
        )
    return notebook_bytes(source), corpus
