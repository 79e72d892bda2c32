"""Feature specifications and the row-wise transforms that are not set-based.

Why split this way: the warehouse (models/intermediate/ml) computes everything that needs
joins over history as of a cutoff or a call time; what is left are per-row transforms
(rates, trends, log scales, "how surprising is this silence"). They are pure functions of
one row, so they cannot leak information across rows or time, and they run inside the
fitted sklearn pipeline so training and scoring can never disagree about them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CHURN_CATEGORICAL: tuple[str, ...] = (
    "sex",
    "location_type",
    "primary_condition",
    "referral_source",
    "plan_type",
)

#: Raw numeric columns of int_patient_features_by_cutoff fed to the churn pipeline.
CHURN_NUMERIC: tuple[str, ...] = (
    "age_years",
    "tenure_days",
    "days_inactive",
    "events_total",
    "active_days_total",
    "events_30d",
    "events_90d",
    "events_180d",
    "active_days_30d",
    "active_days_90d",
    "logins_90d",
    "telemedicine_visits_90d",
    "medication_refills_90d",
    "health_tracking_90d",
    "education_content_90d",
    "messages_90d",
    "revenue_90d",
    "revenue_360d",
    "revenue_total",
    "days_since_first_event",
    "stages_entered",
    "stages_completed",
    "furthest_stage",
    "days_since_stage_entered",
    "claims_total",
    "claims_180d",
    "paid_amount_360d",
    "days_since_last_claim",
    "calls_total",
    "calls_90d",
    "engaged_calls_total",
    "days_since_last_call",
    "cutoff_month",
)

ENGAGEMENT_CATEGORICAL: tuple[str, ...] = (
    "channel",
    "program",
    "call_hour",
    "call_weekday",
    "sex",
    "location_type",
    "primary_condition",
    "referral_source",
    "plan_type",
)

#: Raw numeric columns of int_outreach_call_features fed to the engagement pipeline.
ENGAGEMENT_NUMERIC: tuple[str, ...] = (
    "age_years",
    "tenure_days",
    "prior_calls",
    "prior_engaged_calls",
    "prior_calls_same_channel",
    "prior_engaged_same_channel",
    "prior_calls_90d",
    "last_call_engaged",
    "days_since_last_call",
    "events_7d",
    "events_30d",
    "events_90d",
    "days_since_last_event",
)

#: Count and amount columns put on a log scale (heavy right tails; linear models need it).
_CHURN_LOG_COLUMNS: tuple[str, ...] = (
    "events_total",
    "active_days_total",
    "events_30d",
    "events_90d",
    "events_180d",
    "active_days_30d",
    "active_days_90d",
    "logins_90d",
    "telemedicine_visits_90d",
    "medication_refills_90d",
    "health_tracking_90d",
    "education_content_90d",
    "messages_90d",
    "revenue_90d",
    "revenue_360d",
    "revenue_total",
    "claims_total",
    "claims_180d",
    "paid_amount_360d",
    "calls_total",
    "calls_90d",
    "engaged_calls_total",
)

_ENGAGEMENT_LOG_COLUMNS: tuple[str, ...] = (
    "prior_calls",
    "prior_engaged_calls",
    "prior_calls_same_channel",
    "prior_engaged_same_channel",
    "prior_calls_90d",
    "events_7d",
    "events_30d",
    "events_90d",
)

#: Stand-in for "never happened" in days-since columns: longer than any history.
NEVER_DAYS = 1000.0


@dataclass(frozen=True)
class FeatureSpec:
    """The raw columns a model reads; derived ones are built by its derive function."""

    categorical: tuple[str, ...]
    numeric: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]


CHURN_SPEC = FeatureSpec(CHURN_CATEGORICAL, CHURN_NUMERIC)
ENGAGEMENT_SPEC = FeatureSpec(ENGAGEMENT_CATEGORICAL, ENGAGEMENT_NUMERIC)


def add_cutoff_month(frame: pd.DataFrame, date_column: str = "cutoff_date") -> pd.DataFrame:
    """Calendar month of the cutoff (activity is seasonal); known at the cutoff, so safe."""
    out = frame.copy()
    out["cutoff_month"] = pd.to_datetime(out[date_column]).dt.month.astype(float)
    return out


def _numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The columns as float arrays (nulls as NaN)."""
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in columns}


def _categorical_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Categoricals as plain object strings ('missing' for nulls), one dtype for every encoder."""
    out = {}
    for column in columns:
        values = frame[column].to_numpy(dtype=object)
        missing = pd.isna(values)
        out[column] = np.where(missing, "missing", values.astype(str)).astype(object)
    return out


def _assemble(index: pd.Index, categorical: dict[str, np.ndarray], numeric: dict[str, np.ndarray]) -> pd.DataFrame:
    """One DataFrame built at once (column-by-column inserts are slow in pandas)."""
    data: dict[str, np.ndarray] = {**categorical, **{k: np.asarray(v, dtype=float) for k, v in numeric.items()}}
    return pd.DataFrame(data, index=index)


def derive_churn_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready churn columns from one row of int_patient_features_by_cutoff.

    Beyond log scales, the columns that matter most are rates and surprise: a patient's
    event rate (lifetime and recent, over the part of the window they were enrolled),
    the recent trend, and days_inactive times the rate, i.e. how many events the silence
    has "missed". A long silence from a frequent user is strong evidence of churn; the
    same silence from a rare user is not. Linear models need that product spelt out.
    """
    num = _numbers(frame, CHURN_NUMERIC)
    tenure = np.clip(num["tenure_days"], 0, None) + 1.0
    inactive = np.clip(num["days_inactive"], 0, None)
    rate_life = np.nan_to_num(num["events_total"]) / tenure
    rate_180 = np.nan_to_num(num["events_180d"]) / np.minimum(tenure, 180.0)
    rate_90 = np.nan_to_num(num["events_90d"]) / np.minimum(tenure, 90.0)
    rate_30 = np.nan_to_num(num["events_30d"]) / np.minimum(tenure, 30.0)
    out: dict[str, np.ndarray] = {
        "age_years": np.where(np.isnan(num["age_years"]), 55.0, num["age_years"]),
        "log_tenure_days": np.log1p(tenure),
        "days_inactive": inactive,
        "log_days_inactive": np.log1p(inactive),
    }
    for column in _CHURN_LOG_COLUMNS:
        out[f"log_{column}"] = np.log1p(np.clip(np.nan_to_num(num[column]), 0, None))
    out.update(
        rate_lifetime=rate_life,
        rate_180d=rate_180,
        rate_90d=rate_90,
        rate_30d=rate_30,
        log_rate_90d=np.log(rate_90 + 0.01),
        trend_30_vs_90=np.log((rate_30 + 0.01) / (rate_90 + 0.01)),
        trend_90_vs_life=np.log((rate_90 + 0.01) / (rate_life + 0.01)),
        missed_events_lifetime_rate=inactive * rate_life,
        missed_events_90d_rate=inactive * rate_90,
        stages_entered=np.nan_to_num(num["stages_entered"]),
        stages_open=np.nan_to_num(num["stages_entered"] - num["stages_completed"]),
        furthest_stage=np.nan_to_num(num["furthest_stage"]),
    )
    for column in ("days_since_first_event", "days_since_stage_entered", "days_since_last_claim", "days_since_last_call"):
        days = np.where(np.isnan(num[column]), NEVER_DAYS, num[column])
        out[f"log_{column}"] = np.log1p(np.clip(days, 0, None))
    month = np.where(np.isnan(num["cutoff_month"]), 1.0, num["cutoff_month"])
    out["season_cos"] = np.cos(2 * np.pi * (month - 1) / 12)
    out["season_sin"] = np.sin(2 * np.pi * (month - 1) / 12)
    return _assemble(frame.index, _categorical_text(frame, CHURN_CATEGORICAL), out)


def derive_engagement_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready engagement columns from one row of int_outreach_call_features.

    Hour and weekday are categories, not numbers: answer rates peak late morning and early
    evening, which no monotone term can express. Prior engagement is also given capped
    (a member's habit saturates) and as a smoothed rate.
    """
    num = _numbers(frame, ENGAGEMENT_NUMERIC)
    prior_engaged = np.nan_to_num(num["prior_engaged_calls"])
    out: dict[str, np.ndarray] = {
        "age_years": np.where(np.isnan(num["age_years"]), 55.0, num["age_years"]),
        "log_tenure_days": np.log1p(np.clip(np.nan_to_num(num["tenure_days"]), 0, None)),
    }
    for column in _ENGAGEMENT_LOG_COLUMNS:
        out[f"log_{column}"] = np.log1p(np.clip(np.nan_to_num(num[column]), 0, None))
    out["prior_engaged_capped"] = np.minimum(prior_engaged, 3.0)
    out["prior_engage_rate"] = (prior_engaged + 0.3) / (np.nan_to_num(num["prior_calls"]) + 1.0)
    out["last_call_engaged"] = np.nan_to_num(num["last_call_engaged"])
    for column in ("days_since_last_call", "days_since_last_event"):
        days = np.where(np.isnan(num[column]), NEVER_DAYS, num[column])
        out[f"log_{column}"] = np.log1p(np.clip(days, 0, None))
    return _assemble(frame.index, _categorical_text(frame, ENGAGEMENT_CATEGORICAL), out)
