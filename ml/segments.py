"""Behavioural segments (study 000): K-means on standardised usage at the as-of date.

Why K-means on these columns: the study asks for a handful of user segments from usage
patterns that a care team can name and act on. Every patient enrolled by the cutoff is
clustered (churned ones too: "lapsed" is a segment the team must see), on counts that are
log-scaled and standardised so no single large count dominates the distance.

Why it is deterministic: fixed random_state and n_init; the fit and the silhouette use
seeded samples (fit on at most `segments_fit_rows`, silhouette on at most
`segments_silhouette_rows`: silhouette costs n^2, and a sample of that size picks the same k);
clusters are renumbered by a fixed rule (most events in 90 days first), so segment 1 means
the same thing whatever K-means' internal label order was.

Segments are not named here: a name comes from the profile by the rules in seed
segment_naming_rules (the mart behavioural_segments), never by hand after a run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from . import io
from .config import TrainConfig

SEGMENTS = "segments"

#: Usage columns of marts.patient_features_by_cutoff the segments are built from, plus
#: event_types_90d (how many of the six event types the patient used in 90 days), made
#: here. Counts and amounts are log1p-scaled before standardising.
EVENT_TYPE_COLUMNS: tuple[str, ...] = (
    "login_events_90d",
    "telemedicine_visit_events_90d",
    "medication_refill_events_90d",
    "health_tracking_events_90d",
    "education_content_events_90d",
    "message_events_90d",
)
USAGE_COLUMNS: tuple[str, ...] = (
    "events_90d",
    "active_days_90d",
    *EVENT_TYPE_COLUMNS,
    "revenue_360d",
    "days_inactive",
    "tenure_days",
    "claims_180d",
    "calls_90d",
)
SEGMENT_FEATURES: tuple[str, ...] = (*USAGE_COLUMNS, "event_types_90d")


@dataclass
class SegmentModel:
    """A fitted segmentation: scaler, K-means and the renumbering of its clusters."""

    k: int
    chosen_by: str
    scaler: StandardScaler = field(repr=False)
    kmeans: KMeans = field(repr=False)
    order: np.ndarray = field(repr=False)
    cutoff: date | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    fit_rows: int = 0
    silhouette_rows: int = 0
    seconds: float = 0.0
    assignments: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def assign(self, usage: pd.DataFrame) -> np.ndarray:
        """Segment numbers 1..k (1 = most events in 90 days) for rows of usage_matrix()."""
        labels = self.kmeans.predict(self.scaler.transform(standardisable(usage)))
        return self.order[labels]


def usage_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """The segment features in original units, one row per patient (pure)."""
    missing = [c for c in USAGE_COLUMNS if c not in features.columns]
    if missing:
        raise KeyError(f"segment feature(s) {', '.join(missing)} missing: rebuild the warehouse with `dbt build`")
    out = features[list(USAGE_COLUMNS)].apply(pd.to_numeric, errors="coerce").fillna(0.0).astype(float)
    out["event_types_90d"] = (out[list(EVENT_TYPE_COLUMNS)] > 0).sum(axis=1).astype(float)
    return out.reset_index(drop=True)


def standardisable(usage: pd.DataFrame) -> np.ndarray:
    """log1p of the non-negative usage columns (counts, days, amounts are all skewed)."""
    return np.log1p(np.clip(usage[list(SEGMENT_FEATURES)].to_numpy(dtype=float), 0, None))


def _sample_index(n: int, rows: int, seed: int) -> np.ndarray:
    if n <= rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=rows, replace=False))


def fit_segments(usage: pd.DataFrame, config: TrainConfig) -> SegmentModel:
    """Choose k (silhouette over config.segments_k_range unless config.segments_k), fit, renumber."""
    started = time.perf_counter()
    if len(usage) < max(config.segments_k_range[-1], config.segments_k or 0) * 2:
        raise ValueError(f"segments: only {len(usage)} patients, too few to cluster")
    x_all = standardisable(usage)
    fit_idx = _sample_index(len(usage), config.segments_fit_rows, config.seed)
    scaler = StandardScaler().fit(x_all[fit_idx])
    x_fit = scaler.transform(x_all[fit_idx])
    sil_idx = _sample_index(len(fit_idx), config.segments_silhouette_rows, config.seed + 1)
    ks = [config.segments_k] if config.segments_k else list(config.segments_k_range)
    candidates, fitted = [], {}
    for k in ks:
        t0 = time.perf_counter()
        kmeans = KMeans(n_clusters=k, n_init=config.segments_n_init, random_state=config.seed).fit(x_fit)
        labels = kmeans.labels_[sil_idx]
        silhouette = float(silhouette_score(x_fit[sil_idx], labels)) if len(set(labels)) > 1 else float("nan")
        fitted[k] = kmeans
        candidates.append(
            {
                "k": k,
                "silhouette": silhouette,
                "inertia": float(kmeans.inertia_),
                "fit_seconds": time.perf_counter() - t0,
            }
        )
    best = max(candidates, key=lambda c: (np.nan_to_num(c["silhouette"], nan=-1.0), -c["k"]))
    k = best["k"]
    for candidate in candidates:
        candidate["is_selected"] = candidate["k"] == k
    kmeans = fitted[k]
    # renumber: segment 1 has the highest centroid on events_90d (ties: fewer days inactive)
    centres = kmeans.cluster_centers_
    events = centres[:, SEGMENT_FEATURES.index("events_90d")]
    inactive = centres[:, SEGMENT_FEATURES.index("days_inactive")]
    ranking = np.lexsort((inactive, -events))
    order = np.empty(k, dtype=np.int64)
    order[ranking] = np.arange(1, k + 1)
    return SegmentModel(
        k=k,
        chosen_by="setting ml_segments_k" if config.segments_k else "silhouette",
        scaler=scaler,
        kmeans=kmeans,
        order=order,
        candidates=candidates,
        fit_rows=len(fit_idx),
        silhouette_rows=len(sil_idx),
        seconds=time.perf_counter() - started,
    )


def _mid_percentile(population: np.ndarray, value: float) -> float:
    """Share of the population below value plus half the share equal to it (ties split)."""
    below = float(np.mean(population < value))
    equal = float(np.mean(population == value))
    return below + equal / 2


def profiles(model: SegmentModel, usage: pd.DataFrame, segment: np.ndarray, active: np.ndarray) -> pd.DataFrame:
    """One row per segment x feature: the centroid in original units (the K-means centre,
    un-standardised and un-logged), the members' mean, the population median, where the
    centroid sits in the population (mid-rank percentile, 0..1), and per segment its
    patients, share, churned patients (not active at the cutoff: the patient_churn rule),
    churn rate and revenue over 360 days."""
    centres = np.expm1(model.scaler.inverse_transform(model.kmeans.cluster_centers_))
    rows = []
    for label in range(model.k):
        number = int(model.order[label])
        members = segment == number
        n = int(members.sum())
        churned = int((~active[members]).sum())
        revenue = float(usage.loc[members, "revenue_360d"].sum())
        for j, feature in enumerate(SEGMENT_FEATURES):
            values = usage[feature].to_numpy(dtype=float)
            rows.append(
                {
                    "segment": number,
                    "feature": feature,
                    "centroid": float(centres[label, j]),
                    "member_mean": float(values[members].mean()) if n else None,
                    "population_median": float(np.median(values)),
                    "centroid_percentile": _mid_percentile(values, float(centres[label, j])),
                    "patients": n,
                    "patient_share": n / len(usage),
                    "churned_patients": churned,
                    "churn_rate": churned / n if n else None,
                    "revenue_360d": revenue,
                    "revenue_360d_per_patient": revenue / n if n else None,
                }
            )
    return pd.DataFrame(rows).sort_values(["segment", "feature"], ignore_index=True)


def train_segments(db_path: Path, as_of: date, config: TrainConfig) -> SegmentModel:
    """Read the usage at the latest cutoff on or before as_of, fit, assign every patient."""
    features = io.read_segment_features(db_path, as_of)
    if features.empty:
        raise ValueError(f"segments: no patient features at or before {as_of}")
    usage = usage_matrix(features)
    model = fit_segments(usage, config)
    segment = model.assign(usage)
    model.cutoff = pd.Timestamp(features["cutoff_date"].iloc[0]).date()
    model.assignments = pd.DataFrame(
        {"patient_id": features["patient_id"].astype(str).to_numpy(), "segment": segment.astype(np.int32)}
    )
    model.profiles = profiles(model, usage, segment, features["is_active"].astype(bool).to_numpy())
    return model


def run_frames(bundle: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """model_runs, model_candidates, patient_segments and segment_profiles rows of a run."""
    model: SegmentModel = bundle[SEGMENTS]
    run_id, cutoff = bundle["run_id"], model.cutoff
    best = next(c for c in model.candidates if c["is_selected"])
    runs = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "model_name": SEGMENTS,
                "estimator": "kmeans",
                "calibration": "none",
                "trained_at": bundle["trained_at"],
                "as_of_date": bundle["as_of"],
                "train_rows": model.fit_rows,
                "test_rows": model.silhouette_rows,
                "train_periods": 1,
                "test_periods": 1,
                "train_start": cutoff,
                "train_end": cutoff,
                "test_start": cutoff,
                "test_end": cutoff,
                "period_unit": "as-of cutoff",
                "final_rows": len(model.assignments),
                "selection_metric": "silhouette",
                "params": json.dumps(
                    {
                        "k": model.k,
                        "chosen_by": model.chosen_by,
                        "silhouette": best["silhouette"],
                        "config": bundle["config"],
                        "versions": bundle["versions"],
                    },
                    sort_keys=True,
                    default=str,
                ),
                "features": json.dumps({"numeric": list(SEGMENT_FEATURES), "scaling": "log1p then standardised"}),
                "data_fingerprint": bundle["fingerprint"],
                "model_path": bundle["model_path"],
                "model_sha256": bundle["model_sha256"],
                "fit_seconds": round(model.seconds, 3),
            }
        ]
    )
    candidates = pd.DataFrame(
        [
            {
                "run_id": run_id,
                "model_name": SEGMENTS,
                "estimator": f"kmeans_k{c['k']}",
                "calibration": "none",
                "is_selected": c["is_selected"],
                "fit_seconds": round(c["fit_seconds"], 3),
                "silhouette": None if np.isnan(c["silhouette"]) else c["silhouette"],
            }
            for c in model.candidates
        ]
    )
    assignments = model.assignments.assign(run_id=run_id, as_of_date=bundle["as_of"], cutoff_date=cutoff)
    profile_rows = model.profiles.assign(run_id=run_id, as_of_date=bundle["as_of"], cutoff_date=cutoff)
    return {
        "model_runs": runs,
        "model_candidates": candidates,
        "patient_segments": assignments,
        "segment_profiles": profile_rows,
    }
