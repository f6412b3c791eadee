"""Scoring a predictions CSV: public and private rows apart, and a named reason for each bad file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.challenges.predictions import score_predictions
from grader.challenges.spec import BadSecret

from .prediction_builders import (
    BINARY_LABELS,
    CLASS_LABELS,
    IDS,
    NUMBER_LABELS,
    PUBLIC_IDS,
    entry_csv,
    make_challenge,
    write_entry,
)


@pytest.fixture(scope="module")
def toys(tmp_path_factory):
    root = tmp_path_factory.mktemp("toys")
    return {m: make_challenge(root, m) for m in ("accuracy", "macro_f1", "rmse", "log_loss")}


def score(spec, tmp_path, data: bytes):
    return score_predictions(spec, write_entry(tmp_path, data))


def assert_rejected(result, code: str) -> str:
    assert result.status == "rejected", result.to_dict()
    assert result.reason_code == code, result.reason
    data = result.to_dict()
    assert data["public"]["score"] is None and data["private"]["score"] is None
    return result.reason


def test_perfect_entry_scores_one_on_both_boards(toys, tmp_path):
    result = score(toys["accuracy"], tmp_path, entry_csv(zip(IDS, CLASS_LABELS, strict=False)))
    assert result.status == "scored" and result.exit_code == 0
    assert result.ranked_by == "metric" and result.higher_is_better
    assert result.public == {"score": 1.0, "detail": {"metric": "accuracy", "rows": 8}}
    assert result.private == {"score": 1.0, "detail": {"metric": "accuracy", "rows": 12}}


def test_public_and_private_rows_are_scored_apart(toys, tmp_path):
    # Right on every public row, wrong on every private one.
    wrong = {"cat": "dog", "dog": "bird", "bird": "cat"}
    values = CLASS_LABELS[:8] + [wrong[label] for label in CLASS_LABELS[8:]]
    result = score(toys["accuracy"], tmp_path, entry_csv(zip(IDS, values, strict=False)))
    assert (result.public["score"], result.private["score"]) == (1.0, 0.0)


def test_rmse_is_lower_is_better_and_exact(toys, tmp_path):
    values = [float(y) for y in NUMBER_LABELS]
    values[0] += 2.0  # one public row off by 2: sqrt(4 / 8)
    result = score(toys["rmse"], tmp_path, entry_csv(zip(IDS, values, strict=False)))
    assert not result.higher_is_better
    assert result.public["score"] == pytest.approx(0.5**0.5)
    assert result.private["score"] == 0.0


def test_a_tidy_entry_is_read_whatever_its_order_bom_line_ends_and_spacing(toys, tmp_path):
    rows = [f" {i} , {y} " for i, y in reversed(list(zip(IDS, CLASS_LABELS, strict=False)))]
    data = b"\xef\xbb\xbf" + entry_csv(rows, newline="\r\n") + b"\r\n\r\n"
    result = score(toys["macro_f1"], tmp_path, data)
    assert result.status == "scored", result.reason
    assert result.public["score"] == result.private["score"] == 1.0


def test_numeric_class_labels_accept_1_point_0(tmp_path):
    spec = make_challenge(tmp_path, "accuracy", labels=BINARY_LABELS)
    values = [f"{float(y):.1f}" for y in BINARY_LABELS]  # "1.0" for the class "1"
    result = score(spec, tmp_path, entry_csv(zip(IDS, values, strict=False)))
    assert result.status == "scored" and result.private["score"] == 1.0


@pytest.mark.parametrize(
    ("data", "code", "says"),
    [
        (b"", "not-csv", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not-csv", "NUL"),
        (b"id;label\n1;cat\n", "not-csv", "';'"),
        (b"id,label\n1,cat,extra\n", "not-csv", "line 2 has 3 fields"),
        (b'id,label\n1,"cat\n', "not-csv", "line"),
        (b"id,label\n1,caf\xe9\n", "bad-encoding", "not UTF-8"),
        ("id,label\n1,cat\n".encode("utf-16"), "bad-encoding", "UTF-16"),
        (b"id,prediction\n1,cat\n", "missing-column", "'label'"),
        (b"ID,label\n1,cat\n", "missing-column", "'id'"),
        (b"id,label,label\n1,cat,dog\n", "not-csv", "twice"),
        (b"id,label\n1,cat\n1,dog\n", "duplicate-id", "'1' has 2 rows"),
        (b"id,label\n1,cat\n99,dog\n", "unknown-id", "'99'"),
        (b"id,label\n1,cat\n", "missing-id", "19 ids"),
    ],
)
def test_bad_files_get_named_reasons(toys, tmp_path, data, code, says):
    assert says in assert_rejected(score(toys["accuracy"], tmp_path, data), code)


def test_a_pandas_index_column_gets_a_hint(toys, tmp_path):
    rows = [f"{n},{i},{y}" for n, (i, y) in enumerate(zip(IDS, CLASS_LABELS, strict=True))]
    result = score(toys["accuracy"], tmp_path, entry_csv(rows, header=",id,label"))
    assert "index=False" in assert_rejected(result, "extra-column")


def test_a_label_that_is_not_a_class(toys, tmp_path):
    values = ["cat"] * 19 + ["horse"]
    reason = assert_rejected(
        score(toys["accuracy"], tmp_path, entry_csv(zip(IDS, values, strict=False))), "wrong-label"
    )
    assert "'horse'" in reason and "bird, cat, dog" in reason


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("abc", "non-numeric"),
        ("", "non-numeric"),
        ("1_000", "non-numeric"),  # float() would take it
        ("١٢", "non-numeric"),  # Arabic-Indic digits: float() would take them too
        ("0x10", "non-numeric"),
        ("nan", "nan"),
        ("NaN", "nan"),
        ("-inf", "nan"),
        ("Infinity", "nan"),
        ("1e999", "nan"),  # overflows to infinity
    ],
)
def test_numeric_predictions_must_be_finite_decimal_numbers(toys, tmp_path, value, code):
    values = [y for y in NUMBER_LABELS]
    values[13] = value
    data = entry_csv(zip(IDS, values, strict=False))
    reason = assert_rejected(score(toys["rmse"], tmp_path, data), code)
    assert "line 15" in reason


def test_probabilities_must_lie_in_0_1(toys, tmp_path):
    values = ["0.5"] * 20
    values[2] = "1.5"
    reason = assert_rejected(
        score(toys["log_loss"], tmp_path, entry_csv(zip(IDS, values, strict=False))), "out-of-range"
    )
    assert "'1.5'" in reason


def test_scientific_notation_and_signs_are_numbers(toys, tmp_path):
    values = [f"{float(y):e}" for y in NUMBER_LABELS]
    values[0] = "+0"
    result = score(toys["rmse"], tmp_path, entry_csv(zip(IDS, values, strict=False)))
    assert result.status == "scored" and result.public["score"] == 0.0


def test_a_broken_labels_file_is_the_challenge_s_fault_not_the_entry_s(tmp_path):
    # ROC AUC needs both classes in each split; here the public rows are all "1".
    labels = ["1"] * 8 + ["0", "1"] * 6
    spec = make_challenge(tmp_path, "roc_auc", labels=labels)
    with pytest.raises(BadSecret, match="public rows"):
        score(spec, tmp_path, entry_csv(zip(IDS, ["0.5"] * 20, strict=False)))
    (spec.labels_path).write_text("id,label,split\n1,0,public\n1,1,private\n")
    with pytest.raises(BadSecret, match="twice"):
        score(spec, tmp_path, entry_csv([("1", "0.5")]))


def test_the_cli_gives_the_contract_s_json_and_exit_code(toys, tmp_path):
    # One run (the command's start-up is seconds): a rejected entry, exit 3, JSON on stdout.
    bad = write_entry(tmp_path, entry_csv(zip(PUBLIC_IDS, CLASS_LABELS[:8], strict=True)))
    command = [sys.executable, "-m", "grader", "score", "--json"]
    command += ["--challenge", str(toys["accuracy"].root), "--submission", str(bad)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    result = json.loads(run.stdout)
    assert run.returncode == 3, run.stderr
    assert result["status"] == "rejected" and result["kind"] == "predictions"
    assert result["reason_code"] == "missing-id" and "12 ids" in result["reason"]
    assert result["public"] == {"score": None, "detail": {}}
