"""The studies' extra models against the generator's ground truth (bench JSON, model_quality).

Why a module of its own: like carepulse.oracle it is the benchmark's business (the ML step
never sees the generator), but these models have no single held-out AUC to compare:

* behavioural segments: the generator has no true segment label. The nearest truth is
  each patient's latent engagement level at the end of the data, so the run's segments
  are compared with that level cut into as many quantile groups as there are segments
  and with the latent churned / not churned split (adjusted Rand index), next to the run's silhouette and each segment's mean true level
  and true (latent) churn share. A partition that follows real behaviour orders the
  segments by true level; ARI near 0 would mean the clusters follow something else.
* patient value: the mart multiplies recent monthly revenue by the churn model's
  survival. Truth gives the survival the model estimates: 0 for a patient whose latent
  churn has happened, else exp(-true monthly hazard at the end) per month. The same
  revenue with the true survival is the value an oracle would state; the model's value is
  compared with it (totals and rank correlation), which isolates the churn model's part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from ml.io import connect


def _truth(truth_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(
        Path(truth_dir) / "patient_truth.parquet",
        columns=["patient_id", "engagement_level_at_end", "churn_hazard_monthly_at_end", "churn_date"],
    )


def segments_oracle(segments: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """segments: patient_id, segment (the run's); truth: the generator's patient truth."""
    joined = segments.merge(truth, on="patient_id")
    if joined.empty:
        return {"patients": 0}
    k = int(joined["segment"].nunique())
    ranks = joined["engagement_level_at_end"].rank(method="first")
    true_groups = pd.qcut(ranks, k, labels=False) if k > 1 else np.zeros(len(joined), dtype=int)
    per_segment = (
        joined.assign(latent_churned=joined["churn_date"].notna())
        .groupby("segment")
        .agg(
            patients=("patient_id", "size"),
            mean_true_engagement_level=("engagement_level_at_end", "mean"),
            true_latent_churn_share=("latent_churned", "mean"),
        )
    )
    return {
        "patients": len(joined),
        "k": k,
        "ari_vs_true_engagement_level_groups": float(adjusted_rand_score(true_groups, joined["segment"])),
        "ari_vs_true_latent_churned": float(adjusted_rand_score(joined["churn_date"].notna(), joined["segment"])),
        "segments": {
            str(segment): {key: (float(v) if key != "patients" else int(v)) for key, v in row.items()}
            for segment, row in per_segment.iterrows()
        },
    }


def value_oracle(value: pd.DataFrame, truth: pd.DataFrame, months: int) -> dict[str, Any]:
    """value: patient_id, monthly_revenue, expected_value (marts.patient_value)."""
    joined = value.merge(truth, on="patient_id")
    if joined.empty:
        return {"patients": 0}
    survival = np.where(joined["churn_date"].notna(), 0.0, np.exp(-joined["churn_hazard_monthly_at_end"].astype(float)))
    factor = sum(survival**m for m in range(1, months + 1))
    oracle_value = joined["monthly_revenue"].astype(float) * factor
    model_value = joined["expected_value"].astype(float)
    return {
        "patients": len(joined),
        "value_months": months,
        "model_expected_value_total": round(float(model_value.sum()), 2),
        "oracle_expected_value_total": round(float(oracle_value.sum()), 2),
        "total_ratio_model_vs_oracle": float(model_value.sum() / oracle_value.sum()) if oracle_value.sum() else None,
        "spearman_model_vs_oracle": float(model_value.corr(oracle_value, method="spearman")),
        "mean_absolute_error_usd": round(float((model_value - oracle_value).abs().mean()), 2),
    }


def study_oracles(db_path: Path, truth_dir: Path) -> dict[str, Any]:
    """model_quality entries for behavioural segments and patient value (when built)."""
    truth = _truth(truth_dir)
    with connect(Path(db_path)) as con:
        present = {
            f"{schema}.{name}"
            for schema, name in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }
        out: dict[str, Any] = {}
        if "ml.patient_segments_current" in present:
            segments = con.execute("select patient_id, segment from ml.patient_segments_current").fetchdf()
            candidates = con.execute(
                "select estimator, silhouette, is_selected from ml.model_candidates_current "
                "where model_name = 'segments' order by estimator"
            ).fetchdf()
            out["behavioural_segments"] = {
                **segments_oracle(segments, truth),
                "silhouette_by_k": {row.estimator: float(row.silhouette) for row in candidates.itertuples()},
                "selected": [str(e) for e in candidates.loc[candidates["is_selected"], "estimator"]],
            }
        if "marts.patient_value" in present:
            value = con.execute(
                "select patient_id, monthly_revenue, expected_value, value_months from marts.patient_value"
            ).fetchdf()
            months = int(value["value_months"].iloc[0]) if len(value) else 12
            out["patient_value"] = value_oracle(value, truth, months)
    return out
