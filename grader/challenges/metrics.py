"""The metrics a predictions challenge may declare, written in numpy (no scikit-learn at run time).

Each metric takes the true values and the predictions of one split as numpy arrays of equal length
and returns a float. Their definitions follow scikit-learn's (``accuracy_score``, ``f1_score`` with
``average="macro"``, ``mean_squared_error`` square-rooted, ``mean_absolute_error``, ``log_loss``
and ``roc_auc_score`` for a binary target), so an organiser's offline numbers agree with the board.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class MetricError(ValueError):
    """The labels of a split do not allow the metric (e.g. ROC AUC on a split of one class)."""


@dataclass(frozen=True)
class Metric:
    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    higher_is_better: bool
    #: "class": predictions are class labels compared as text; "number": any finite number;
    #: "probability": a number in [0, 1], the probability of the positive class "1".
    prediction: str


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted mean of the per-class F1 over the classes present in y_true or y_pred.

    F1 = 2 TP / (2 TP + FP + FN), which is 0 for a class never predicted correctly (as
    scikit-learn's ``zero_division=0``).
    """
    classes = np.union1d(y_true, y_pred)
    scores = []
    for label in classes:
        true_is = y_true == label
        pred_is = y_pred == label
        tp = np.count_nonzero(true_is & pred_is)
        fp = np.count_nonzero(~true_is & pred_is)
        fn = np.count_nonzero(true_is & ~pred_is)
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_true - y_pred)))


def _binary(y_true: np.ndarray, metric: str) -> np.ndarray:
    values = np.asarray(y_true, dtype=np.float64)
    if not np.all((values == 0) | (values == 1)):
        raise MetricError(f"{metric} needs labels 0 and 1")
    return values


def log_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Binary cross-entropy of the probabilities of class 1, clipped to [eps, 1 - eps]."""
    y = _binary(y_true, "log_loss")
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(y_pred, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks from 1, ties sharing the mean of the ranks they span (scipy's rankdata "average")."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts  # 0-based rank of each distinct value's first copy
    return (starts + (counts + 1) / 2.0)[inverse]


def roc_auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney U statistic (ties count one half)."""
    y = _binary(y_true, "roc_auc")
    positives = int(np.count_nonzero(y == 1))
    negatives = y.size - positives
    if positives == 0 or negatives == 0:
        raise MetricError("roc_auc needs both classes in every split")
    ranks = average_ranks(np.asarray(y_pred, dtype=np.float64))
    u = ranks[y == 1].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("accuracy", accuracy, True, "class"),
        Metric("macro_f1", macro_f1, True, "class"),
        Metric("rmse", rmse, False, "number"),
        Metric("mae", mae, False, "number"),
        Metric("log_loss", log_loss, False, "probability"),
        Metric("roc_auc", roc_auc, True, "number"),
    )
}


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise MetricError(f"unknown metric {name!r}; one of {', '.join(METRICS)}") from None
