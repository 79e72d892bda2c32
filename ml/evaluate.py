"""Benchmark against the generator's ground truth: how close do the models get to perfect?

Why an oracle: a held-out ROC AUC of 0.9 means little on its own; on synthetic data the
generator knows each example's true probability, and the AUC of those true probabilities
on the same held-out examples is the best any model could reach. The gap between the two
is the honest measure of the ML step (goal: within 0.02 at scale 1).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.metrics import roc_auc_score

from .config import CHURN, ENGAGEMENT
from .io import connect


def _holdout(db_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with connect(db_path) as con:
        holdout = con.execute("select * from ml.holdout_predictions_current").fetchdf()
        runs = con.execute("select * from ml.model_runs_current").fetchdf()
    return holdout, runs


def _auc(labels: pd.Series, scores: pd.Series) -> float:
    y = labels.astype(int)
    return float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else float("nan")


def churn_oracle(holdout: pd.DataFrame, truth: pd.DataFrame, horizon_days: int) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the churn held-out examples (one cutoff)."""
    from carepulse.generate.truth import oracle_churn_probability

    rows = holdout[holdout["model_name"] == CHURN].copy()
    out: dict[str, Any] = {}
    parts = []
    for cutoff, group in rows.groupby("example_date"):
        cutoff_date: date = pd.Timestamp(cutoff).date()
        oracle = oracle_churn_probability(truth, cutoff_date, horizon_days)
        group = group.assign(oracle=group["patient_id"].map(oracle))
        parts.append(group)
        out["cutoff"] = cutoff_date
    joined = pd.concat(parts, ignore_index=True).dropna(subset=["oracle"])
    out.update(
        examples=len(joined),
        base_rate=float(joined["label"].mean()),
        model_roc_auc=_auc(joined["label"], joined["probability"]),
        oracle_roc_auc=_auc(joined["label"], joined["oracle"]),
    )
    out["gap"] = out["oracle_roc_auc"] - out["model_roc_auc"]
    return out


def engagement_oracle(holdout: pd.DataFrame, call_truth: pd.DataFrame) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the held-out calls (truth: each call's engage probability)."""
    rows = holdout[holdout["model_name"] == ENGAGEMENT]
    joined = rows.merge(call_truth[["call_id", "engage_probability"]], left_on="example_id", right_on="call_id")
    out = {
        "examples": len(joined),
        "base_rate": float(joined["label"].mean()) if len(joined) else float("nan"),
        "model_roc_auc": _auc(joined["label"], joined["probability"]),
        "oracle_roc_auc": _auc(joined["label"], joined["engage_probability"]),
    }
    out["gap"] = out["oracle_roc_auc"] - out["model_roc_auc"]
    return out


def oracle_comparison(db_path: Path, truth_dir: Path) -> dict[str, Any]:
    """Held-out ROC AUC of the current churn and engagement models next to the oracle's.

    truth_dir is the generator's ground_truth folder (patient_truth.parquet,
    call_truth.parquet). Both AUCs are computed on exactly the same held-out examples.
    """
    holdout, runs = _holdout(Path(db_path))
    truth = pd.read_parquet(Path(truth_dir) / "patient_truth.parquet")
    call_truth = pd.read_parquet(Path(truth_dir) / "call_truth.parquet")
    run = runs.set_index("model_name")
    with connect(Path(db_path)) as con:
        horizon_days = int(con.execute("select max(label_window_days) from intermediate.int_ml_cutoffs").fetchone()[0])
    return {
        "run_id": str(run.loc[CHURN, "run_id"]),
        CHURN: {"estimator": str(run.loc[CHURN, "estimator"]), **churn_oracle(holdout, truth, horizon_days)},
        ENGAGEMENT: {"estimator": str(run.loc[ENGAGEMENT, "estimator"]), **engagement_oracle(holdout, call_truth)},
    }
