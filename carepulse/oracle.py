"""The models against the generator's ground truth: how close do they get to perfect?

Why an oracle: a held-out ROC AUC of 0.9 means little on its own; on synthetic data the
generator knows each example's true probability, and the AUC of those true probabilities
on the same held-out examples is the best any model could reach.

For churn the generator's oracle also knows the latent churn time: a patient who churned
a week before the cutoff is still "active" by the 90-day rule, and only the oracle knows
for sure that no event will come. So a second reference is reported, the observable
oracle (the generator's `observable_churn_probability`): the Bayes posterior from the
true latent parameters and what a model can see, the silence since the last event.

Why here and not in `ml`: the ML step must run on real data, where no generator exists;
comparing with ground truth is the benchmark's and the tests' business. This module reads
the ML tables and the generator's public API; `ml` never imports the generator.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn.metrics import roc_auc_score

from carepulse.generate import observable_churn_probability, oracle_churn_probability
from carepulse.generate import params as gen_params
from carepulse.oracle_champion import SIMULATIONS, oracle_champion_probability, top_segment_rule
from ml.champions import CHAMPION
from ml.config import CHURN, ENGAGEMENT
from ml.dropout import DROPOUT
from ml.engagement import REACH_WINDOWS
from ml.io import CHAMPION_FEATURES, CUTOFFS, DROPOUT_FEATURES, FEATURES, connect

#: The provider segment rules seed as dbt builds it (dbt_project.yml: seeds in schema staging).
SEGMENT_RULES = "staging.provider_segment_rules"
#: Rows per observable-oracle chunk: its day matrices are rows x silent days.
_CHUNK = 50_000


def _auc(labels: pd.Series, scores: pd.Series) -> float:
    y = labels.astype(int)
    defined = 0 < y.sum() < len(y) and bool(pd.notna(scores).all())  # both classes, every score known
    return float(roc_auc_score(y, scores)) if defined else float("nan")


def churn_oracle(
    holdout: pd.DataFrame, truth: pd.DataFrame, horizon_days: int, silence: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the churn held-out examples (one cutoff).

    silence: patient_id, days_inactive at the cutoff; when given, the observable oracle
    is reported too.
    """
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
                [
                    observable_churn_probability(
                        truth,
                        group["patient_id"].iloc[start : start + _CHUNK],
                        group["days_inactive"].iloc[start : start + _CHUNK],
                        cutoff_date,
                        horizon_days,
                    )
                    for start in range(0, len(group), _CHUNK)
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


def best_time_oracle(predictions: pd.DataFrame, calls: pd.DataFrame, call_truth: pd.DataFrame) -> dict[str, Any]:
    """The chosen weekday x hour windows against the generator's true hour and weekday terms.

    The generator's logit P(engaged) is additive; each call's truth carries its hour term
    (logit_hour) and weekday term (logit_weekday), so the true terms per hour and weekday
    are read off the calls (calls: call_id, hour_of_day, iso_weekday). A window's true
    score is its mean hour term plus the weekday term, exactly as the model's window is the
    mean over its hours. Reports the share of patients given the truly best window and the
    mean true logit regret (0 = always the best window).
    """
    joined = calls.merge(call_truth[["call_id", "logit_hour", "logit_weekday"]], on="call_id")
    hour_term = joined.groupby("hour_of_day")["logit_hour"].first()
    weekday_term = joined.groupby(joined["iso_weekday"] - 1)["logit_weekday"].first()
    scores = {
        (weekday, start): float(hour_term.reindex(range(start, end)).mean() + weekday_term.get(weekday, np.nan))
        for weekday in range(7)
        for start, end in REACH_WINDOWS
    }
    best_score = max(scores.values())
    best_cells = [cell for cell, score in scores.items() if score >= best_score - 1e-12]
    chosen = [
        scores[(int(w), int(h))]
        for w, h in zip(predictions["best_weekday"], predictions["best_hour_start"], strict=True)
    ]
    regret = best_score - np.asarray(chosen, dtype=float)
    return {
        "patients": len(predictions),
        "true_best_windows": [{"weekday": w, "hour_start": h} for w, h in best_cells],
        "share_truly_best_window": float(np.mean(regret <= 1e-12)) if len(regret) else float("nan"),
        "mean_true_logit_regret": float(regret.mean()) if len(regret) else float("nan"),
    }


#: Lognormal sigma of the generator's stage durations (carepulse/generate/journeys.py:
#: median x exp(0.5 z)).
STAGE_DURATION_SIGMA = 0.5


def _progress_share(p: np.ndarray, cdf_seen: np.ndarray, cdf_window: np.ndarray, cdf_before: np.ndarray) -> np.ndarray:
    """P(the next step happens in the window | it has not happened by the cutoff): the step
    happens with probability p at a delay with CDF cdf; cdf_before is the CDF at the cutoff
    (capped by the churn time), cdf_window at the window's end (capped likewise)."""
    numerator = p * np.clip(cdf_window - cdf_seen, 0, None)
    return numerator / np.clip(1 - p * cdf_before, 1e-12, None)


def oracle_dropout_probability(examples: pd.DataFrame, truth: pd.DataFrame, window_days: int) -> np.ndarray:
    """The generator's P(no pathway progress in (cutoff, cutoff + window]) per example.

    It knows what no model sees, the patient's latent churn date (no stage is entered or
    completed after it), and takes every other draw at its distribution, given what was
    seen by the cutoff: in a stage for `days_in_current_stage` days and not completed
    (completion with the stage's probability x condition x location multipliers, after a
    lognormal duration), or waiting `days_since_pathway_progress` days for the next stage
    (entered with its probability after an exponential gap). examples: rows of
    marts.journey_dropout_features_by_cutoff; truth: patient_truth.parquet.
    """
    stage = examples["current_stage"].map({name: i for i, name in enumerate(gen_params.STAGES)}).to_numpy()
    waiting = examples["is_waiting_for_next_stage"].astype(bool).to_numpy()
    churn = pd.to_datetime(examples["patient_id"].map(truth.set_index("patient_id")["churn_date"]))
    to_churn = ((churn - pd.to_datetime(examples["cutoff_date"])).dt.days).to_numpy(dtype=float)
    to_churn = np.where(np.isnan(to_churn), np.inf, to_churn)
    condition = examples["primary_condition"].map(gen_params.STAGE_COMPLETE_CONDITION_MULT).to_numpy(dtype=float)
    location = examples["location_type"].map(gen_params.STAGE_COMPLETE_LOCATION_MULT).to_numpy(dtype=float)
    # in a stage: completion after a lognormal duration, a days already spent
    a = examples["days_in_current_stage"].to_numpy(dtype=float)
    median = np.asarray(gen_params.STAGE_MEDIAN_DAYS)[stage]

    def duration_cdf(days: np.ndarray) -> np.ndarray:
        return ndtr(np.log(np.clip(days, 1e-9, None) / median) / STAGE_DURATION_SIGMA) * (days > 0)

    p_done = np.clip(np.asarray(gen_params.STAGE_COMPLETE)[stage] * condition * location, 0, 1)
    in_stage = _progress_share(
        p_done,
        duration_cdf(a),
        duration_cdf(np.minimum(a + window_days, a + to_churn)),
        duration_cdf(np.minimum(a, a + to_churn)),
    )
    # waiting: entry of the next stage after an exponential gap, b days already waited
    b = examples["days_since_pathway_progress"].to_numpy(dtype=float)
    following = np.minimum(stage + 1, len(gen_params.STAGES) - 1)
    gap = np.asarray(gen_params.STAGE_GAP_DAYS)[following]

    def gap_cdf(days: np.ndarray) -> np.ndarray:
        return np.where(days > 0, 1 - np.exp(-np.clip(days, 0, None) / gap), 0.0)

    p_enter = np.asarray(gen_params.STAGE_ENTER)[following]
    waiting_share = _progress_share(
        p_enter, gap_cdf(b), gap_cdf(np.minimum(b + window_days, b + to_churn)), gap_cdf(np.minimum(b, b + to_churn))
    )
    return 1 - np.clip(np.where(waiting, waiting_share, in_stage), 0, 1)


def dropout_oracle(
    holdout: pd.DataFrame, examples: pd.DataFrame, truth: pd.DataFrame, window_days: int
) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the dropout model's held-out examples (patient@cutoff)."""
    rows = holdout[holdout["model_name"] == DROPOUT]
    keyed = examples.assign(
        example_id=examples["patient_id"].astype(str)
        + "@"
        + pd.to_datetime(examples["cutoff_date"]).dt.strftime("%Y-%m-%d")
    )
    joined = rows.merge(keyed, on="example_id", suffixes=("", "_example"))
    joined["oracle"] = oracle_dropout_probability(joined, truth, window_days)
    out = {
        "examples": len(joined),
        "base_rate": float(joined["label"].mean()) if len(joined) else float("nan"),
        "model_roc_auc": _auc(joined["label"], joined["probability"]),
        "oracle_roc_auc": _auc(joined["label"], joined["oracle"]),
    }
    out["gap"] = out["oracle_roc_auc"] - out["model_roc_auc"]
    return out


def champion_oracle(
    holdout: pd.DataFrame, examples: pd.DataFrame, truth: pd.DataFrame | None, rules: pd.DataFrame
) -> dict[str, Any]:
    """Model vs oracle ROC AUC on the champion model's held-out provider months
    (provider@month end), and the top-k precision of both (k = the providers that truly
    moved up) against the base rate. The oracle is the simulated P(top segment in the next
    quarter) from the latent claim process and what the month end shows
    (carepulse.oracle_champion); examples: provider_champion_features_by_month rows;
    rules: the provider_segment_rules seed as built; truth None (data generated before
    provider_truth.parquet existed): the model's figures only, oracle NaN."""
    rows = holdout[holdout["model_name"] == CHAMPION]
    keyed = examples.assign(
        example_id=examples["provider_id"].astype(str)
        + "@"
        + pd.to_datetime(examples["month_end_date"]).dt.strftime("%Y-%m-%d")
    )
    joined = rows.merge(keyed, on="example_id", suffixes=("", "_example"))
    if truth is None:
        joined["oracle"] = np.nan
    else:
        joined["oracle"] = oracle_champion_probability(joined, truth, top_segment_rule(rules))
        joined = joined.dropna(subset=["oracle"])
    k = int(joined["label"].sum())

    def top_k_precision(score: str) -> float:
        top = joined.sort_values([score, "example_id"], ascending=[False, True]).head(k)
        return float(top["label"].mean()) if k else float("nan")

    out = {
        "examples": len(joined),
        "base_rate": float(joined["label"].mean()) if len(joined) else float("nan"),
        "model_roc_auc": _auc(joined["label"], joined["probability"]),
        "oracle_roc_auc": _auc(joined["label"], joined["oracle"]),
        "top_k": k,
        "top_k_precision": top_k_precision("probability"),
        "oracle_top_k_precision": top_k_precision("oracle") if truth is not None else float("nan"),
        "oracle": "simulated P(label | latent claim rate and billing window, month-end state), "
        f"{SIMULATIONS} draws per example"
        if truth is not None
        else "none: no ground_truth/provider_truth.parquet (data generated before it existed)",
    }
    out["gap"] = out["oracle_roc_auc"] - out["model_roc_auc"]
    return out


def oracle_comparison(db_path: Path, truth_dir: Path) -> dict[str, Any]:
    """Held-out ROC AUC of the current churn and engagement models next to the oracle's.

    truth_dir is the generator's ground_truth folder (patient_truth.parquet,
    call_truth.parquet, provider_truth.parquet for the champion oracle, which is skipped
    without it). Both AUCs are computed on exactly the same held-out examples.
    """
    with connect(Path(db_path)) as con:
        holdout = con.execute("select * from ml.holdout_predictions_current").fetchdf()
        runs = con.execute("select * from ml.model_runs_current").fetchdf()
    run = runs.set_index("model_name")
    test_cutoff = pd.Timestamp(run.loc[CHURN, "test_start"]).date()
    with connect(Path(db_path)) as con:
        horizon_days = int(con.execute(f"select max(label_window_days) from {CUTOFFS}").fetchone()[0])
        silence = con.execute(
            f"select patient_id, days_inactive from {FEATURES} where cutoff_date = ?", [test_cutoff]
        ).fetchdf()
    truth = pd.read_parquet(Path(truth_dir) / "patient_truth.parquet")
    call_truth = pd.read_parquet(Path(truth_dir) / "call_truth.parquet")
    with connect(Path(db_path)) as con:
        reach = con.execute(
            "select best_weekday, best_hour_start from ml.engagement_predictions_current where best_weekday is not null"
        ).fetchdf()
        calls = con.execute("select call_id, hour_of_day, iso_weekday from marts.fct_outreach_calls").fetchdf()
    with connect(Path(db_path)) as con:
        dropout_examples = con.execute(f"select * from {DROPOUT_FEATURES} where is_labelled").fetchdf()
    window = pd.to_datetime(dropout_examples["dropout_window_end"]) - pd.to_datetime(dropout_examples["cutoff_date"])
    extra = {}
    if DROPOUT in run.index and len(dropout_examples):
        extra[DROPOUT] = {
            "estimator": str(run.loc[DROPOUT, "estimator"]),
            **dropout_oracle(holdout, dropout_examples, truth, int(window.dt.days.iloc[0])),
        }
    if CHAMPION in run.index:
        with connect(Path(db_path)) as con:
            champion_examples = con.execute(f"select * from {CHAMPION_FEATURES} where is_labelled").fetchdf()
            rules = con.execute(f"select * from {SEGMENT_RULES}").fetchdf()
        truth_file = Path(truth_dir) / "provider_truth.parquet"
        provider_truth = pd.read_parquet(truth_file) if truth_file.exists() else None
        extra[CHAMPION] = {
            "estimator": str(run.loc[CHAMPION, "estimator"]),
            **champion_oracle(holdout, champion_examples, provider_truth, rules),
        }
    return {
        **extra,
        "best_time_to_reach": best_time_oracle(reach, calls, call_truth),
        "run_id": str(run.loc[CHURN, "run_id"]),
        CHURN: {"estimator": str(run.loc[CHURN, "estimator"]), **churn_oracle(holdout, truth, horizon_days, silence)},
        ENGAGEMENT: {"estimator": str(run.loc[ENGAGEMENT, "estimator"]), **engagement_oracle(holdout, call_truth)},
    }
