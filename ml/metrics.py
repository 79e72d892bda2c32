"""Held-out metrics of a probabilistic classifier: pure functions of labels and scores.

Why these: ROC AUC and PR AUC measure ranking (who goes to the top of the worklist);
Brier, log loss and the calibration error measure whether the probabilities can be
multiplied into an expected value; accuracy/precision/recall/F1 at a stated threshold are
what the studies report; lift in the top decile is what a care team with limited
capacity gets from the model compared with calling at random.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

#: Calibrated probabilities: at or above this a positive outcome is more likely than not.
DEFAULT_THRESHOLD = 0.5


def lift_top_decile(y_true: np.ndarray, prob: np.ndarray) -> float:
    """Positive rate among the highest-scored 10% divided by the overall positive rate.

    Ties are broken by position after a stable sort, so the result is deterministic.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(prob, dtype=float)
    if y.size == 0 or y.mean() == 0:
        return float("nan")
    k = max(1, int(math.ceil(0.1 * y.size)))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / y.mean())


def expected_calibration_error(y_true: np.ndarray, prob: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-count bins, weighted by size."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(prob, dtype=float)
    if y.size == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, min(bins, y.size)):
        if chunk.size:
            error += chunk.size * abs(y[chunk].mean() - p[chunk].mean())
    return float(error / y.size)


def classification_metrics(
    y_true: np.ndarray, prob: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, float]:
    """Every metric stored in ml.model_runs, from held-out labels and probabilities."""
    y = np.asarray(y_true, dtype=int)
    p = np.clip(np.asarray(prob, dtype=float), 1e-6, 1 - 1e-6)
    both_classes = y.size > 0 and 0 < y.sum() < y.size
    predicted = p >= threshold
    tp = float(np.sum(predicted & (y == 1)))
    fp = float(np.sum(predicted & (y == 0)))
    fn = float(np.sum(~predicted & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "base_rate": float(y.mean()) if y.size else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(y, p)) if y.size else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])) if y.size else float("nan"),
        "accuracy": float(np.mean(predicted == (y == 1))) if y.size else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "threshold": float(threshold),
        "lift_top_decile": lift_top_decile(y, p),
        "calibration_error": expected_calibration_error(y, p),
    }


def base_rate_brier(y_true: np.ndarray) -> float:
    """Brier score of always predicting the base rate: the bar a useful model must clear."""
    y = np.asarray(y_true, dtype=float)
    rate = y.mean()
    return float(np.mean((y - rate) ** 2))
