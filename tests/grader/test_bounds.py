"""No input crashes the grader: every notebook yields a result with a reason, within bounds.

Most of these never reach a kernel (the submission is refused first, or the steps that need a
kernel are left out), so they are quick; the ones that run code are marked slow.
"""

from __future__ import annotations

import json
import random

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

from grader import Limits, Worker
from grader import result as R
from grader.device import resolve_device
from grader.limits import BOUNDS
from grader.pipeline import (
    Context,
    PreparedSource,
    feedback_step,
    read_submission,
    run_pipeline,
    sanitize_step,
    scan_step,
    score_step,
)

from .builders import source_nb, submission

SOURCE = source_nb("def double(x):\n    return 2 * x", ["assert double(3) == 6"])
GOOD = submission(SOURCE, "def double(x):\n    return 2 * x")
PREPARED = PreparedSource.build(SOURCE)
NO_KERNEL = (read_submission, sanitize_step, scan_step, score_step, feedback_step)


def _grade_without_kernel(data) -> R.GradeResult:
    def no_kernel():
        raise AssertionError("these steps never start a kernel")

    ctx = Context(
        prepared=PREPARED,
        submission=data,
        name="fuzz.ipynb",
        limits=Limits(),
        device=resolve_device("simulator"),
        get_kernel=no_kernel,
        result=R.GradeResult(cells=[], score=0.0, max_score=0.0, device="simulator"),
    )
    return run_pipeline(ctx, NO_KERNEL)


def _assert_bounded(res: R.GradeResult) -> None:
    text = res.to_json(include_feedback=False)
    json.loads(text)  # valid JSON: no NaN, no infinity
    assert len(text) <= BOUNDS.max_result_bytes
    assert len(res.feedback_html.encode()) <= BOUNDS.max_feedback_bytes
    assert res.max_score == 1.0


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


CRASHERS = {
    # (1) deeply nested JSON where a cell should be: json.loads itself recursed too deep.
    "nested-cells": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
    + _nested(200_000).encode()
    + b"}",
    # (2) nesting json parses but every later step (validation, deepcopy) recursed on.
    "nested-metadata": json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"x": json.loads(_nested(900))},
            "cells": [],
        }
    ).encode(),
    "not-json": b"\x89PNG\r\n\x1a\n not a notebook",
    "not-utf8": b'{"cells": [], "nbformat": 4, "x": "\xff\xfe"}',
    "list": b"[1, 2, 3]",
    "huge-number": b'{"nbformat": 4, "cells": [], "n": 1' + b"0" * 5000 + b"}",
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_named_crashers_give_a_result_with_a_reason(name):
    res = _grade_without_kernel(CRASHERS[name])
    _assert_bounded(res)
    assert R.INVALID_SUBMISSION in res.flags and res.score == 0
    assert res.reasons and all(reason.strip() for reason in res.reasons)


def _mutations(rng: random.Random, raw: dict) -> dict:
    """One random damage to a notebook's JSON: a wrong type, a deletion, deep nesting, a huge
    value, at a random place."""
    junk = [
        None,
        True,
        -1,
        1e308,
        "x" * rng.randint(0, 50),
        [],
        {},
        [1, [2, [3]]],
        {"grade_id": 5},
        json.loads(_nested(rng.choice([10, 60, 70, 500]))),
    ]
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(raw, ())
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths[1:])
        parent = raw
        try:
            for key in path[:-1]:
                parent = parent[key]
            if rng.random() < 0.2 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = rng.choice(junk)
        except (KeyError, IndexError, TypeError):
            continue
    return raw


def test_fuzzed_notebooks_never_crash_the_grader():
    rng = random.Random(9)
    base = json.loads(GOOD)
    outcomes = set()
    for _ in range(150):
        raw = _mutations(rng, json.loads(json.dumps(base)))
        try:
            data = json.dumps(raw).encode()
        except ValueError:
            continue
        if rng.random() < 0.1:
            data = data[: rng.randint(0, len(data))]  # cut short
        res = _grade_without_kernel(data)
        _assert_bounded(res)
        assert res.score in (0.0, 1.0)
        if R.INVALID_SUBMISSION in res.flags:
            assert res.reasons
        outcomes.add(R.INVALID_SUBMISSION in res.flags)
    assert outcomes == {True, False}, "the fuzzing should reach both refusals and grading"


@pytest.mark.slow
def test_a_19_mb_notebook_gives_a_bounded_feedback_page():
    big = "x = 1  # " + "y" * (9 * 1024**2)
    extra = [
        new_markdown_cell("z" * (5 * 1024**2)),
        new_raw_cell("<b>" * 1024**2),
        new_code_cell(big),
    ]
    data = submission(SOURCE, "def double(x):\n    return 2 * x", extra)
    assert 17 * 1024**2 < len(data) < BOUNDS.max_notebook_bytes
    with Worker(Limits(cell_timeout=20.0), "simulator", warm=False) as worker:
        res = worker.grade(SOURCE, data)
    _assert_bounded(res)
    assert res.score == 1.0
    assert len(res.feedback_html) < 2 * 1024**2, "sources are cut in the feedback"


def test_cli_prints_json_for_every_kind_of_failure(tmp_path, capsys):
    from grader.__main__ import main

    source = tmp_path / "source.ipynb"
    source.write_text(json.dumps(SOURCE))
    nested = tmp_path / "nested.ipynb"
    nested.write_bytes(CRASHERS["nested-cells"])
    cases = [
        (["--source", str(source), "--submission", str(nested)], 3, R.INVALID_SUBMISSION),
        (["--source", str(nested), "--submission", str(nested)], 4, "invalid-source"),
        (["--source", str(source), "--submission", str(tmp_path / "missing")], 3, None),
    ]
    for args, code, flag in cases:
        assert main(["grade", *args, "--json", "--no-feedback", "--device", "simulator"]) == code
        res = json.loads(capsys.readouterr().out)
        assert res["score"] == 0 and res["reasons"], res
        if flag:
            assert flag in res["flags"]
