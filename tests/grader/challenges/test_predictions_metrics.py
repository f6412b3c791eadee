"""The metrics, written in numpy, against hand-computed values (and scikit-learn when installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grader.challenges import metrics
from grader.challenges.metrics import METRICS, MetricError, average_ranks, get_metric
from grader.challenges.spec import LOWER_IS_BETTER
from grader.challenges.spec import METRICS as MANIFEST_METRICS


def test_every_manifest_metric_exists_and_sorts_the_same_way():
    assert set(METRICS) == set(MANIFEST_METRICS)
    for name, metric in METRICS.items():
        assert metric.higher_is_better == (name not in LOWER_IS_BETTER)
    with pytest.raises(MetricError, match="unknown metric"):
        get_metric("f2")


def test_accuracy():
    y = np.array(["a", "b", "a", "a"], dtype=object)
    p = np.array(["a", "a", "a", "b"], dtype=object)
    assert metrics.accuracy(y, p) == 0.5


def test_macro_f1_by_hand():
    # class 0: TP 1 FP 1 FN 1 -> 2/4; class 1: TP 2 FP 1 FN 0 -> 4/5; class 2: TP 0 FN 1 -> 0
    y = np.array(["0", "0", "1", "1", "2"], dtype=object)
    p = np.array(["0", "1", "1", "1", "0"], dtype=object)
    assert metrics.macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_macro_f1_counts_a_class_only_predicted():
    # "b" never occurs in y: F1 0 for it drags the mean down, as scikit-learn does.
    y = np.array(["a", "a"], dtype=object)
    assert metrics.macro_f1(y, np.array(["a", "a"], dtype=object)) == 1.0
    assert metrics.macro_f1(y, np.array(["a", "b"], dtype=object)) == pytest.approx((2 / 3) / 2)


def test_rmse_and_mae():
    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
    assert metrics.rmse(y, p) == pytest.approx(math.sqrt(4 / 3))
    assert metrics.mae(y, p) == pytest.approx(2 / 3)


def test_log_loss_and_its_clipping():
    y = np.array(["1", "0"])
    assert metrics.log_loss(y, np.array([0.8, 0.3])) == pytest.approx(
        -(math.log(0.8) + math.log(0.7)) / 2
    )
    # A confident wrong answer costs a large but finite amount, never infinity.
    wrong = metrics.log_loss(np.array(["1"]), np.array([0.0]))
    assert math.isfinite(wrong) and wrong == pytest.approx(-math.log(np.finfo(float).eps))
    with pytest.raises(MetricError, match="labels 0 and 1"):
        metrics.log_loss(np.array(["2"]), np.array([0.5]))


def test_roc_auc_by_hand_with_ties():
    y = np.array(["0", "0", "1", "1"])
    assert metrics.roc_auc(y, np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert metrics.roc_auc(np.array(["0", "1"]), np.array([0.5, 0.5])) == 0.5
    assert metrics.roc_auc(y, np.array([3.0, 4.0, 1.0, 2.0])) == 0.0  # any scores, not only [0, 1]
    with pytest.raises(MetricError, match="both classes"):
        metrics.roc_auc(np.array(["1", "1"]), np.array([0.2, 0.3]))


def test_average_ranks():
    assert average_ranks(np.array([10.0, 20.0, 10.0, 5.0])).tolist() == [2.5, 4.0, 2.5, 1.0]


def test_against_scikit_learn_when_installed():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(7)
    classes = rng.integers(0, 3, 300).astype(str).astype(object)
    guesses = rng.integers(0, 4, 300).astype(str).astype(object)
    binary = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 2)  # rounded, so that there are ties
    numbers, predicted = rng.normal(size=300), rng.normal(size=300)
    y01 = binary.astype(str)
    assert metrics.accuracy(classes, guesses) == pytest.approx(sk.accuracy_score(classes, guesses))
    assert metrics.macro_f1(classes, guesses) == pytest.approx(
        sk.f1_score(classes, guesses, average="macro", zero_division=0)
    )
    assert metrics.rmse(numbers, predicted) == pytest.approx(
        math.sqrt(sk.mean_squared_error(numbers, predicted))
    )
    assert metrics.mae(numbers, predicted) == pytest.approx(
        sk.mean_absolute_error(numbers, predicted)
    )
    assert metrics.log_loss(y01, scores) == pytest.approx(sk.log_loss(binary, scores))
    assert metrics.roc_auc(y01, scores) == pytest.approx(sk.roc_auc_score(binary, scores))
