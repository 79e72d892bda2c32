"""The training recipe shared by the churn and the engagement model.

Why one recipe: both models go through the same steps (compare candidates on a time split,
select by the documented metric, explain on the held-out period, refit the winner on all
labelled data) and must report them the same way in ml.model_runs. What differs (how
examples are split and scored) lives in churn.py and engagement.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import TrainConfig
from .explain import logistic_coefficients, permutation_ranking, reference_values
from .features import FeatureSpec
from .selection import Derive, TooLittleData, cap_rows, compare_candidates, fit_calibrated, select_candidate


@dataclass
class TrainedModel:
    """A fitted, calibrated model with everything written about it to the warehouse."""

    model_name: str
    estimator: str
    calibration: str
    model: Any = field(repr=False)
    spec: FeatureSpec
    reference: dict[str, Any]
    metrics: dict[str, float]
    candidates: list[dict[str, Any]]
    periods: dict[str, Any]
    holdout: pd.DataFrame = field(repr=False)
    importance: pd.DataFrame = field(repr=False)
    final_rows: int = 0
    seconds: float = 0.0


def fit_model(
    model_name: str,
    derive: Derive,
    spec: FeatureSpec,
    train: pd.DataFrame,
    test: pd.DataFrame,
    final: pd.DataFrame,
    label: str,
    group: str,
    holdout_id: pd.Series,
    holdout_date: pd.Series,
    periods: dict[str, Any],
    config: TrainConfig,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainedModel:
    """Compare candidates on train -> test, pick one, explain it, refit it on `final`.

    The candidates are compared on the same deterministic sample of at most
    config.compare_rows training rows (the held-out period is never sampled beyond its
    cap): the winner's held-out metrics are those of that fit, and only the winner is
    refitted on `final`. periods["train_rows"] is the number of rows that fit saw.
    holdout_id and holdout_date identify the test rows (aligned with `test`) in
    ml.holdout_predictions, so the benchmark can join them to ground truth.
    """
    started = time.perf_counter()
    compare = cap_rows(train, config.compare_rows, config.seed).reset_index(drop=True)
    y_train = compare[label].astype(int).to_numpy()
    y_test = test[label].astype(int).to_numpy()
    if len(np.unique(y_train)) < 2:
        raise TooLittleData(f"{model_name}: the training period has only one class; more data is needed")
    if len(compare) < len(train):
        progress(f"  candidates compared on {len(compare)} of {len(train)} training rows")
    periods = {**periods, "train_rows": len(compare)}
    results = compare_candidates(
        derive,
        spec.categorical,
        compare[spec.columns],
        y_train,
        compare[group].astype(str).to_numpy(),
        test[spec.columns],
        y_test,
        config,
        progress,
    )
    chosen = select_candidate(results, config.selection_metric, config.simpler_within)
    progress(f"  selected {chosen.estimator} by held-out {config.selection_metric}")
    importance = permutation_ranking(
        chosen.model,
        test[spec.columns].reset_index(drop=True),
        y_test,
        spec,
        config.seed,
        config.importance_repeats,
        config.importance_rows,
    )
    holdout = pd.DataFrame(
        {
            "example_id": holdout_id.astype(str).to_numpy(),
            # the example's entity: the patient, or the provider for the champion model
            "patient_id": test[group].astype(str).to_numpy(),
            "example_date": pd.to_datetime(holdout_date).dt.date.to_numpy(),
            "label": y_test.astype(bool),
            "probability": chosen.test_probability.astype(float),
        }
    )
    final = cap_rows(final, config.max_train_rows, config.seed)
    y_final = final[label].astype(int).to_numpy()
    model = fit_calibrated(
        chosen.estimator,
        derive,
        spec.categorical,
        final[spec.columns],
        y_final,
        final[group].astype(str).to_numpy(),
        config,
    )
    coefficients = logistic_coefficients(model)
    if coefficients is not None:
        importance = pd.concat([importance, coefficients], ignore_index=True)
    candidates = [
        {
            "estimator": r.estimator,
            "calibration": r.calibration,
            "fit_seconds": round(r.fit_seconds, 3),
            "is_selected": r is chosen,
            **r.metrics,
        }
        for r in results
    ]
    return TrainedModel(
        model_name=model_name,
        estimator=chosen.estimator,
        calibration=chosen.calibration,
        model=model,
        spec=spec,
        reference=reference_values(final, spec),
        metrics=chosen.metrics,
        candidates=candidates,
        periods=periods,
        holdout=holdout,
        importance=importance,
        final_rows=len(final),
        seconds=time.perf_counter() - started,
    )


def risk_deciles(probability: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Deciles 1..10 of the probability (10 = highest), ties ordered by id: deterministic."""
    n = len(probability)
    if n == 0:
        return np.array([], dtype=int)
    order = np.lexsort((np.asarray(ids, dtype=str), np.asarray(probability, dtype=float)))
    deciles = np.empty(n, dtype=int)
    deciles[order] = np.arange(n) * 10 // n + 1
    return deciles
