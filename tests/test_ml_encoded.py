"""The scoring shortcuts of ml/encoded.py give the plain pipeline's numbers, bit for bit.

Occlusion explanations (and the best-time-to-reach grid) encode the scored rows once and
re-encode only the blocks a variant changes. These tests score the same variants the plain
way (model.predict_proba on the full rows) and require equal arrays, not close ones: the
predictions tables must not change with the shortcut. On the shared ML session warehouse
(conftest): the run's saved models on their scoring rows, and one calibrated model per
candidate estimator (logistic regression: one-hot + scaler; forest: one-hot + passthrough;
boosting: ordinal + passthrough) fitted here on the session's calls.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import TEST_TRAIN_SEED, TEST_TRAIN_SETTINGS
from sklearn.pipeline import Pipeline

from ml import dropout, extra_models, io, registry, writeback
from ml.config import CANDIDATES, TrainConfig
from ml.encoded import variant_probabilities
from ml.explain import _occluded, occlusion_contributions, reference_values, top_factors
from ml.features import ENGAGEMENT_SPEC, derive_engagement_features
from ml.grid import score_grid
from ml.selection import fit_calibrated


def plain_contributions(model: Any, X: pd.DataFrame, spec: Any, reference: dict[str, Any]) -> pd.DataFrame:
    """Occlusion the plain way: every occluded frame through model.predict_proba."""
    rows = X[spec.columns]
    base = model.predict_proba(rows)[:, 1]
    return pd.DataFrame(
        {c: base - model.predict_proba(_occluded(rows, spec, reference, c))[:, 1] for c in spec.columns},
        index=X.index,
    )


@pytest.fixture(scope="module")
def bundle(ml_session_warehouse: Path) -> dict[str, Any]:
    db = ml_session_warehouse
    run_id = writeback.latest_run_id(db)
    return registry.load(db.parent / "models", run_id, writeback.recorded_model_sha256(db, run_id))


def test_saved_models_explained_through_the_encoded_rows_equal_the_plain_pipeline(
    ml_session_warehouse: Path, bundle: dict[str, Any]
) -> None:
    db = ml_session_warehouse
    rows = {
        "churn": io.read_churn_scoring(db),
        "engagement": io.read_next_calls(db),
        **extra_models.scoring_rows(db, bundle),
    }
    models = {**bundle["models"], **(bundle.get(extra_models.BUNDLE_KEY) or {})}
    assert {"churn", "engagement", dropout.DROPOUT} <= set(models)
    for name, trained in models.items():
        X = rows[name].head(400).reset_index(drop=True)
        assert len(X) > 20, name
        fast = occlusion_contributions(trained.model, X, trained.spec, trained.reference)
        plain = plain_contributions(trained.model, X, trained.spec, trained.reference)
        assert list(fast.columns) == list(plain.columns)
        np.testing.assert_array_equal(fast.to_numpy(), plain.to_numpy(), err_msg=name)
        assert (fast.abs().to_numpy() > 0).any(), name  # the comparison is not of zeros


@pytest.mark.parametrize("estimator", CANDIDATES)
def test_each_candidate_estimator_scores_variants_like_the_plain_pipeline(
    ml_session_warehouse: Path, estimator: str
) -> None:
    db = ml_session_warehouse
    as_of = io.warehouse_info(db).as_of
    calls = io.read_call_examples(db, as_of, as_of, train_fraction=1.0, test_fraction=1.0)
    config = TrainConfig(seed=TEST_TRAIN_SEED, **TEST_TRAIN_SETTINGS)
    spec = ENGAGEMENT_SPEC
    y = calls["is_engaged"].astype(int).to_numpy()
    model = fit_calibrated(
        estimator,
        derive_engagement_features,
        spec.categorical,
        calls[spec.columns],
        y,
        calls["patient_id"].astype(str).to_numpy(),
        config,
    )
    X = io.read_next_calls(db).head(300).reset_index(drop=True)
    reference = reference_values(calls, spec)
    fast = occlusion_contributions(model, X, spec, reference)
    np.testing.assert_array_equal(fast.to_numpy(), plain_contributions(model, X, spec, reference).to_numpy())
    # a variant changing two categoricals and a numeric column at once, and one changing nothing
    both = X.assign(channel="sms", call_hour=9, prior_calls=X["prior_calls"] + 2)
    base, variants = variant_probabilities(model, X[spec.columns], [("both", both), ("same", X.copy())])
    np.testing.assert_array_equal(base, model.predict_proba(X[spec.columns])[:, 1])
    np.testing.assert_array_equal(variants["both"], model.predict_proba(both[spec.columns])[:, 1])
    np.testing.assert_array_equal(variants["same"], base)
    # the best-time-to-reach grid on the same model against the plain pipeline, one row's week
    # at a time: equal to the last bits only per same matrix shape (BLAS sums by blocks of
    # rows), so here to 1e-12; the occlusion passes above keep the shape and are exact
    cells = pd.DataFrame({"call_weekday": np.repeat(np.arange(7), 3), "call_hour": np.tile([8, 13, 19], 7)})
    grid = score_grid(model, X.head(40)[spec.columns], cells)
    for i, row in X.head(40).iterrows():
        week = pd.DataFrame([row] * len(cells)).reset_index(drop=True)
        week[["call_weekday", "call_hour"]] = cells.to_numpy()
        np.testing.assert_allclose(grid[i], model.predict_proba(week[spec.columns])[:, 1], rtol=0, atol=1e-12)


def test_a_model_that_is_not_a_calibrated_pipeline_is_explained_the_plain_way(ml_session_warehouse: Path) -> None:
    db = ml_session_warehouse
    as_of = io.warehouse_info(db).as_of
    calls = io.read_call_examples(db, as_of, as_of, train_fraction=1.0, test_fraction=1.0)
    spec = ENGAGEMENT_SPEC
    model = fit_calibrated(
        "logistic_regression",
        derive_engagement_features,
        spec.categorical,
        calls[spec.columns],
        calls["is_engaged"].astype(int).to_numpy(),
        calls["patient_id"].astype(str).to_numpy(),
        TrainConfig(seed=TEST_TRAIN_SEED, **TEST_TRAIN_SETTINGS),
    )
    pipeline: Pipeline = model.calibrated_classifiers_[0].estimator.estimator  # uncalibrated
    X = calls.head(200)
    assert variant_probabilities(pipeline, X[spec.columns], []) is None
    reference = reference_values(calls, spec)
    np.testing.assert_array_equal(
        occlusion_contributions(pipeline, X, spec, reference).to_numpy(),
        plain_contributions(pipeline, X, spec, reference).to_numpy(),
    )


def test_top_factors_rank_by_contribution_then_name_and_keep_only_positive_ones() -> None:
    contributions = pd.DataFrame(
        {
            "b_col": [0.2, 0.1, -0.3, 0.0],
            "a_col": [0.2, 0.3, -0.1, 0.0],
            "c_col": [0.05, 0.3, -0.2, 1e-10],
            "d_col": [0.5, -0.1, -0.4, 0.0],
        }
    )
    X = pd.DataFrame(
        {
            "a_col": ["x", "y", None, "z"],
            "b_col": [1.23456, np.nan, 3.0, 4.0],
            "c_col": pd.array([1, 2, None, 4], dtype="Int32"),
            "d_col": [10, 20, 30, 40],
        }
    )
    names, payloads = top_factors(contributions, X, 3)
    # row 0: d 0.5, then the tie a/b 0.2 by name; row 1: the tie a/c 0.3 by name, then b
    assert names == [
        ["d_col", "a_col", "b_col"],
        ["a_col", "c_col", "b_col"],
        [None, None, None],
        [None, None, None],
    ]
    assert json.loads(payloads[0]) == [
        {"feature": "d_col", "value": 10, "effect": 0.5},
        {"feature": "a_col", "value": "x", "effect": 0.2},
        {"feature": "b_col", "value": 1.235, "effect": 0.2},
    ]
    assert json.loads(payloads[1])[1] == {"feature": "c_col", "value": 2, "effect": 0.3}
    assert json.loads(payloads[1])[2] == {"feature": "b_col", "value": None, "effect": 0.1}
    assert payloads[2] == payloads[3] == "[]"
