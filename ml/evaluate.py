"""Benchmark against the generator's ground truth: how close do the models get to perfect?

Why an oracle: a held-out ROC AUC of 0.9 means little on its own; on synthetic data the
generator knows each example's true probability, and the AUC of those true probabilities
on the same held-out examples is the best any model could reach. The gap between the two
is the honest measure of the ML step (goal: within 0.02 at scale 1).

For churn the generator's oracle also knows the latent churn time: a patient who churned
a week before the cutoff is still "active" by the 90-day rule, and only the oracle knows
for sure that no event will come. So a second reference is reported, the observable
oracle: the Bayes posterior from the true latent parameters (hazard, engagement level and
decay) and what a model can see, the silence since the last event. It is the ceiling
for any model of observed activity; the gap to it shows what is left to learn.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
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


def observable_churn_oracle(
    truth: pd.DataFrame, patient_ids: pd.Series, days_inactive: pd.Series, cutoff: date, horizon_days: int
) -> np.ndarray:
    """P(churn label) from the true latent parameters and the observed silence only.

    P(already churned | no event since the last one) by Bayes over the silent days, with
    the generator's hazard and daily event rates; then
    P(label) = P(already) + (1 - P(already)) x P(silent horizon | alive at cutoff).
    """
    from carepulse.generate import params
    from carepulse.generate.calendar import SECONDS_PER_DAY, Window
    from carepulse.generate.hazard import daily_event_rate, survival
    from carepulse.generate.truth import oracle_churn_probability

    rows = truth.set_index("patient_id").loc[patient_ids.to_numpy()]
    window = Window(pd.Timestamp(truth["as_of_date"].iloc[0]).date())
    start = pd.Timestamp(window.start_date)
    enroll_s = (pd.to_datetime(rows["enrolled_at"]) - start).dt.total_seconds().to_numpy()[:, None]
    h0 = rows["churn_hazard_monthly"].to_numpy(float)[:, None]
    growth = rows["hazard_growth_monthly"].to_numpy(float)[:, None]
    level = rows["engagement_level"].to_numpy(float)[:, None]
    decay = rows["engagement_decay_monthly"].to_numpy(float)[:, None]
    silence = days_inactive.to_numpy(dtype=int)[:, None]
    k_day = window.day_of(cutoff)
    width = int(max(silence.max(initial=0), 1))
    offsets = np.arange(1, width + 1)[None, :]  # silent day j = last event day + offset
    in_silence = offsets <= silence
    days = k_day - silence + offsets
    month_s = SECONDS_PER_DAY * params.DAYS_PER_MONTH
    start_s = (k_day - silence + 1) * SECONDS_PER_DAY
    bounds_from = survival(h0, growth, (start_s - enroll_s) / month_s)
    day_start = survival(h0, growth, (days * SECONDS_PER_DAY - enroll_s) / month_s) / bounds_from
    day_end = survival(h0, growth, ((days + 1) * SECONDS_PER_DAY - enroll_s) / month_s) / bounds_from
    rates = np.where(in_silence, daily_event_rate(window, np.clip(days, 0, None), enroll_s, level, decay), 0.0)
    silent_before = np.exp(-(np.cumsum(rates, axis=1) - rates))
    churned_silent = np.where(in_silence, (day_start - day_end) * silent_before, 0.0).sum(axis=1)
    alive_end = survival(h0, growth, (((k_day + 1) * SECONDS_PER_DAY) - enroll_s) / month_s)[:, 0] / bounds_from[:, 0]
    alive_silent = alive_end * np.exp(-rates.sum(axis=1))
    already = np.where(silence[:, 0] > 0, churned_silent / np.maximum(churned_silent + alive_silent, 1e-300), 0.0)
    alive_truth = truth.assign(churn_at=pd.NaT)
    if_alive = oracle_churn_probability(alive_truth, cutoff, horizon_days).reindex(patient_ids.to_numpy()).to_numpy()
    return already + (1 - already) * if_alive


def churn_oracle(
    holdout: pd.DataFrame, truth: pd.DataFrame, horizon_days: int, silence: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the churn held-out examples (one cutoff).

    silence: patient_id, days_inactive at the cutoff; when given, the observable oracle
    is reported too.
    """
    from carepulse.generate.truth import oracle_churn_probability

    rows = holdout[holdout["model_name"] == CHURN].copy()
    out: dict[str, Any] = {}
    parts = []
    for cutoff, group in rows.groupby("example_date"):
        cutoff_date: date = pd.Timestamp(cutoff).date()
        oracle = oracle_churn_probability(truth, cutoff_date, horizon_days)
        group = group.assign(oracle=group["patient_id"].map(oracle))
        if silence is not None:
            group = group.merge(silence, on="patient_id", how="left")
            group["observable_oracle"] = np.concatenate(
                [  # in chunks: the day matrices are rows x days
                    observable_churn_oracle(
                        truth,
                        group["patient_id"].iloc[start : start + 50_000],
                        group["days_inactive"].iloc[start : start + 50_000],
                        cutoff_date,
                        horizon_days,
                    )
                    for start in range(0, len(group), 50_000)
                ]
            )
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
    if silence is not None:
        out["observable_oracle_roc_auc"] = _auc(joined["label"], joined["observable_oracle"])
        out["gap_to_observable"] = out["observable_oracle_roc_auc"] - out["model_roc_auc"]
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
    test_cutoff = pd.Timestamp(run.loc[CHURN, "test_start"]).date()
    with connect(Path(db_path)) as con:
        horizon_days = int(con.execute("select max(label_window_days) from intermediate.int_ml_cutoffs").fetchone()[0])
        silence = con.execute(
            "select patient_id, days_inactive from intermediate.int_patient_features_by_cutoff where cutoff_date = ?",
            [test_cutoff],
        ).fetchdf()
    return {
        "run_id": str(run.loc[CHURN, "run_id"]),
        CHURN: {"estimator": str(run.loc[CHURN, "estimator"]), **churn_oracle(holdout, truth, horizon_days, silence)},
        ENGAGEMENT: {"estimator": str(run.loc[ENGAGEMENT, "estimator"]), **engagement_oracle(holdout, call_truth)},
    }
