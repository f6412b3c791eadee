"""The demo predictions challenge: its data are what make_data.py makes, and its baseline scores."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from grader.challenges.predictions import score_predictions
from grader.challenges.spec import load_challenge

CHURN = Path(__file__).resolve().parents[3] / "challenges" / "churn-predictions"
GENERATED = (
    "public/train.csv",
    "public/test.csv",
    "public/sample_submission.csv",
    "secret/labels.csv",
    "baseline.csv",
)


def test_committed_data_are_what_make_data_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("churn_make_data", CHURN / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(out=tmp_path)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (CHURN / name).read_bytes(), name


def test_the_split_and_the_public_files_leak_no_labels():
    with (CHURN / "secret" / "labels.csv").open() as handle:
        labels = list(csv.DictReader(handle))
    splits = [row["split"] for row in labels]
    assert len(labels) == 2000 and splits.count("public") == 800
    with (CHURN / "public" / "test.csv").open() as handle:
        test = list(csv.DictReader(handle))
    assert "churn" not in test[0] and "split" not in test[0]
    assert [row["id"] for row in test] == [row["id"] for row in labels]


@pytest.mark.parametrize(
    ("entry", "low", "high"),
    [("baseline.csv", 0.65, 0.72), ("public/sample_submission.csv", 0.35, 0.42)],
)
def test_the_baseline_and_the_sample_score_on_both_boards(entry, low, high):
    result = score_predictions(load_challenge(CHURN), CHURN / entry)
    assert result.status == "scored", result.reason
    for board in (result.public, result.private):
        assert low < board["score"] < high
        assert board["detail"]["metric"] == "macro_f1"
