"""Why a model says what it says: global importance and per-row top factors.

Both work on the raw warehouse columns (the ones documented in the dbt feature models),
not on encoded internals, so an analyst can look a factor up. Global importance is
permutation importance on the held-out period (the drop in ROC AUC when a column is
shuffled), the same method for every estimator so runs compare. Per-row factors use
occlusion: replace one column by its typical training value (median, or most frequent
category) and see how much the probability falls. That is model-agnostic, needs no extra
dependency, and for a logistic regression it reduces to the coefficient times the
deviation from typical.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from .encoded import variant_probabilities
from .features import FeatureSpec


def reference_values(X: pd.DataFrame, spec: FeatureSpec) -> dict[str, Any]:
    """Typical training value per raw column: median for numbers, most frequent category."""
    out: dict[str, Any] = {}
    for column in spec.categorical:
        counts = X[column].astype(object).value_counts(dropna=True)
        out[column] = None if counts.empty else sorted(counts[counts == counts.max()].index)[0]
    for column in spec.numeric:
        values = pd.to_numeric(X[column], errors="coerce")
        out[column] = float(values.median()) if values.notna().any() else None
    return out


def permutation_ranking(
    model: Any, X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, seed: int, repeats: int, max_rows: int = 5_000
) -> pd.DataFrame:
    """feature, importance (mean ROC AUC drop), rank (1 = most important), method.

    Permutation importance on a sample of the held-out rows, with every shuffled copy
    scored in a few large batches: per-call overhead of the pipeline (derive, encode),
    not the arithmetic, dominated sklearn's one-call-per-column-and-repeat loop.
    """
    if len(X) > max_rows:
        sample = X.sample(n=max_rows, random_state=seed)
        X, y = sample, y[X.index.get_indexer(sample.index)]
    if len(np.unique(y)) < 2:
        importance = np.zeros(len(spec.columns))
    else:
        importance = _permutation_drops(model, X[spec.columns].reset_index(drop=True), y, seed, repeats).mean(axis=1)
    frame = pd.DataFrame({"feature": spec.columns, "importance": importance.astype(float)})
    frame = frame.sort_values(["importance", "feature"], ascending=[False, True], kind="stable")
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame["method"] = "permutation_roc_auc"
    return frame.reset_index(drop=True)


def _permutation_drops(
    model: Any, X: pd.DataFrame, y: np.ndarray, seed: int, repeats: int, batch_rows: int = 150_000
) -> np.ndarray:
    """ROC AUC drop per (column, repeat) when that column alone is shuffled."""
    rng = np.random.default_rng(seed)
    n = len(X)
    baseline = roc_auc_score(y, model.predict_proba(X)[:, 1])
    copies = []
    for column in X.columns:
        values = X[column].to_numpy()
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[column] = values[rng.permutation(n)]
            copies.append(shuffled)
    per_batch = max(1, batch_rows // n)
    probability = np.concatenate(
        [
            model.predict_proba(pd.concat(copies[i : i + per_batch], ignore_index=True))[:, 1]
            for i in range(0, len(copies), per_batch)
        ]
    ).reshape(len(X.columns), repeats, n)
    scores = np.array([[roc_auc_score(y, probability[c, r]) for r in range(repeats)] for c in range(len(X.columns))])
    return baseline - scores


def logistic_coefficients(model: Any) -> pd.DataFrame | None:
    """Signed coefficients on standardised/one-hot columns when the final model is a
    logistic regression (method 'lr_coefficient'); None otherwise."""
    pipeline = getattr(model, "estimator", None)
    calibrated = getattr(model, "calibrated_classifiers_", None)
    if calibrated:
        pipeline = calibrated[0].estimator
    # a prefitted estimator calibrated on a held-out slice is wrapped in FrozenEstimator
    pipeline = getattr(pipeline, "estimator", pipeline)
    if not isinstance(pipeline, Pipeline) or type(pipeline.named_steps["model"]).__name__ != "LogisticRegression":
        return None
    names = pipeline.named_steps["encode"].get_feature_names_out()
    coefficients = pipeline.named_steps["model"].coef_[0]
    frame = pd.DataFrame({"feature": [n.split("__", 1)[-1] for n in names], "importance": coefficients.astype(float)})
    frame["order"] = -np.abs(frame["importance"])
    frame = frame.sort_values(["order", "feature"], kind="stable").drop(columns="order")
    frame["rank"] = np.arange(1, len(frame) + 1)
    frame["method"] = "lr_coefficient"
    return frame.reset_index(drop=True)


def candidate_factors(importance: pd.DataFrame, spec: FeatureSpec, limit: int = 12) -> list[str]:
    """The raw columns worth explaining rows with: the `limit` most important by
    permutation importance (a column the model barely uses cannot be a top factor, and
    each explained column costs one prediction pass over every scored row)."""
    ranked = importance[importance["method"] == "permutation_roc_auc"].sort_values("rank")
    names = [f for f in ranked["feature"] if f in set(spec.columns)][:limit]
    return names or list(spec.columns)


def _occluded(X: pd.DataFrame, spec: FeatureSpec, reference: dict[str, Any], column: str) -> pd.DataFrame:
    """X with `column` at its reference value in every row."""
    occluded = X.copy()
    value = reference.get(column)
    if column in spec.categorical:
        occluded[column] = pd.Series([value] * len(occluded), index=occluded.index, dtype=object)
    else:
        occluded[column] = np.nan if value is None else float(value)
    return occluded


def occlusion_contributions(
    model: Any,
    X: pd.DataFrame,
    spec: FeatureSpec,
    reference: dict[str, Any],
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Per row and raw column: P(row) - P(row with that column at its reference value).

    Positive means the column's actual value raises the probability. One prediction pass
    per explained column (default: all), so the cost is linear in rows x columns; the rows
    are derived and encoded once and each pass re-encodes only what its column changes
    (ml/encoded.py), with the plain pipeline as the fallback: the same numbers either way.
    """
    rows = X[spec.columns]
    explained = columns or spec.columns
    variants = ((column, _occluded(rows, spec, reference, column)) for column in explained)
    fast = variant_probabilities(model, rows, variants)
    if fast is not None:
        base, occluded = fast
        return pd.DataFrame({column: base - occluded[column] for column in explained}, index=X.index)
    base = model.predict_proba(rows)[:, 1]
    contributions = {
        column: base - model.predict_proba(_occluded(rows, spec, reference, column))[:, 1] for column in explained
    }
    return pd.DataFrame(contributions, index=X.index)


def _format_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 3)
    return str(value)


def _cell_values(column: pd.Series) -> Any:
    """The column's values as _format_value sees them one by one (Series.iat), in a form
    quick to index: numpy columns as arrays, text as objects with the dtype's own missing
    value, any other extension type as is."""
    if isinstance(column.dtype, np.dtype):
        return column.to_numpy()
    if isinstance(column.dtype, pd.StringDtype):
        return column.to_numpy(dtype=object, na_value=column.dtype.na_value)
    return column.array


def top_factors(contributions: pd.DataFrame, X: pd.DataFrame, k: int) -> tuple[list[list[str | None]], list[str]]:
    """The k columns that raise each row's probability most, as (names per row, JSON per row).

    Only positive contributions count as risk factors; a row with fewer gets None names.
    Ties are broken by column name, so the output is deterministic.
    """
    columns = np.array(sorted(contributions.columns))
    values = contributions[list(columns)].to_numpy()
    # per row, columns by falling contribution, ties by name: a stable sort of the columns
    # (already in name order) on the negated values, all rows at once
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    positive = np.take_along_axis(values, order, axis=1) > 1e-9
    cells = [_cell_values(X[name]) for name in columns]
    names: list[list[str | None]] = []
    payloads: list[str] = []
    for i in range(values.shape[0]):
        chosen = order[i][positive[i]]
        names.append([str(columns[j]) for j in chosen] + [None] * (k - len(chosen)))
        payloads.append(
            json.dumps(
                [
                    {
                        "feature": str(columns[j]),
                        "value": _format_value(cells[j][i]),
                        "effect": round(float(values[i, j]), 4),
                    }
                    for j in chosen
                ]
            )
        )
    return names, payloads
