"""Evaluation curves computed from held-out labels and probabilities (ml.holdout_predictions).

Why recompute rather than store: the ML step keeps every held-out prediction of the current
run with its true label, so ROC, precision-recall, calibration and gains curves follow from
those rows exactly; nothing is sampled or invented here. Ties in the scores are handled as
a random order within the tie (the expected curve), so the result does not depend on how
rows happen to be sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve


@dataclass(frozen=True)
class Curves:
    """Everything the model figures draw for one model."""

    n: int
    positives: int
    base_rate: float
    fpr: np.ndarray
    tpr: np.ndarray
    roc_auc: float
    precision: np.ndarray
    recall: np.ndarray
    average_precision: float
    calibration_predicted: np.ndarray  # mean predicted probability per bin
    calibration_observed: np.ndarray  # observed positive rate per bin
    calibration_counts: np.ndarray  # examples per bin
    gains_x: np.ndarray  # share of examples contacted (0..1), best scores first
    gains_y: np.ndarray  # share of all positives among them (0..1)


def has_both_classes(labels: np.ndarray) -> bool:
    return 0 < int(labels.sum()) < len(labels)


def calibration_bins(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> tuple[np.ndarray, ...]:
    """Equal-count bins of the predictions (as the ML step's calibration error): mean
    predicted, observed rate and size of each non-empty bin, in order of prediction."""
    order = np.argsort(scores, kind="mergesort")
    chunks = [chunk for chunk in np.array_split(order, min(bins, len(order))) if len(chunk)]
    predicted = np.array([scores[chunk].mean() for chunk in chunks])
    observed = np.array([labels[chunk].mean() for chunk in chunks])
    counts = np.array([len(chunk) for chunk in chunks])
    return predicted, observed, counts


def gains(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains: contacting the highest scores first, the share of all positives
    found against the share of examples contacted. Points at the boundaries of tied scores;
    in between, linear (the expected value when ties are broken at random)."""
    n = len(scores)
    total = labels.sum()
    if n == 0 or total == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    unique, inverse = np.unique(-scores, return_inverse=True)  # best score first
    per_group_n = np.bincount(inverse, minlength=len(unique))
    per_group_pos = np.bincount(inverse, weights=labels.astype(float), minlength=len(unique))
    x = np.concatenate([[0.0], np.cumsum(per_group_n) / n])
    y = np.concatenate([[0.0], np.cumsum(per_group_pos) / total])
    return x, y


def captured_at(x: np.ndarray, y: np.ndarray, share: float) -> float:
    """Share of positives found when contacting the top `share` of examples."""
    return float(np.interp(share, x, y))


def compute(labels: np.ndarray, scores: np.ndarray, bins: int = 10) -> Curves | None:
    """All curves of one model; None when the held-out set lacks one of the classes."""
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    if not has_both_classes(labels):
        return None
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    predicted, observed, counts = calibration_bins(labels, scores, bins)
    gx, gy = gains(labels, scores)
    return Curves(
        n=len(labels),
        positives=int(labels.sum()),
        base_rate=float(labels.mean()),
        fpr=fpr,
        tpr=tpr,
        roc_auc=float(roc_auc_score(labels, scores)),
        precision=precision,
        recall=recall,
        average_precision=float(average_precision_score(labels, scores)),
        calibration_predicted=predicted,
        calibration_observed=observed,
        calibration_counts=counts,
        gains_x=gx,
        gains_y=gy,
    )
