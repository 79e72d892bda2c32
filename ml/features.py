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


def _days_since(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float).fillna(NEVER_DAYS)


def _categorical_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Categoricals as plain object strings ('missing' for nulls), one dtype for every encoder."""
    out = {}
    for column in columns:
        values = frame[column].astype(object)
        out[column] = np.where(pd.isna(values), "missing", values.astype(str)).astype(object)
    return pd.DataFrame(out, index=frame.index)


def derive_churn_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready churn columns from one row of int_patient_features_by_cutoff.

    Beyond log scales, the columns that matter most are rates and surprise: a patient's
    event rate (lifetime and recent, over the part of the window they were enrolled),
    the recent trend, and days_inactive times the rate, i.e. how many events the silence
    has "missed". A long silence from a frequent user is strong evidence of churn; the
    same silence from a rare user is not. Linear models need that product spelt out.
    """
    num = frame[list(CHURN_NUMERIC)].apply(pd.to_numeric, errors="coerce").astype(float)
    tenure = num["tenure_days"].clip(lower=0) + 1.0
    inactive = num["days_inactive"].clip(lower=0)
    rate_life = num["events_total"] / tenure
    rate_90 = num["events_90d"] / np.minimum(tenure, 90.0)
    rate_30 = num["events_30d"] / np.minimum(tenure, 30.0)
    rate_180 = num["events_180d"] / np.minimum(tenure, 180.0)
    out = pd.DataFrame(index=frame.index)
    out["age_years"] = num["age_years"].fillna(55.0)
    out["log_tenure_days"] = np.log1p(tenure)
    out["days_inactive"] = inactive
    out["log_days_inactive"] = np.log1p(inactive)
    for column in _CHURN_LOG_COLUMNS:
        out[f"log_{column}"] = np.log1p(num[column].fillna(0).clip(lower=0))
    out["rate_lifetime"] = rate_life
    out["rate_180d"] = rate_180
    out["rate_90d"] = rate_90
    out["rate_30d"] = rate_30
    out["log_rate_90d"] = np.log(rate_90 + 0.01)
    out["trend_30_vs_90"] = np.log((rate_30 + 0.01) / (rate_90 + 0.01))
    out["trend_90_vs_life"] = np.log((rate_90 + 0.01) / (rate_life + 0.01))
    out["missed_events_lifetime_rate"] = inactive * rate_life
    out["missed_events_90d_rate"] = inactive * rate_90
    out["stages_entered"] = num["stages_entered"].fillna(0)
    out["stages_open"] = (num["stages_entered"] - num["stages_completed"]).fillna(0)
    out["furthest_stage"] = num["furthest_stage"].fillna(0)
    for column in ("days_since_first_event", "days_since_stage_entered", "days_since_last_claim", "days_since_last_call"):
        out[f"log_{column}"] = np.log1p(_days_since(num[column]).clip(lower=0))
    month = num["cutoff_month"].fillna(1.0)
    out["season_cos"] = np.cos(2 * np.pi * (month - 1) / 12)
    out["season_sin"] = np.sin(2 * np.pi * (month - 1) / 12)
    categorical = _categorical_text(frame, CHURN_CATEGORICAL)
    return pd.concat([categorical, out.astype(float)], axis=1)


def derive_engagement_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready engagement columns from one row of int_outreach_call_features.

    Hour and weekday are categories, not numbers: answer rates peak late morning and early
    evening, which no monotone term can express. Prior engagement is also given capped
    (a member's habit saturates) and as a smoothed rate.
    """
    num = frame[list(ENGAGEMENT_NUMERIC)].apply(pd.to_numeric, errors="coerce").astype(float)
    out = pd.DataFrame(index=frame.index)
    out["age_years"] = num["age_years"].fillna(55.0)
    out["log_tenure_days"] = np.log1p(num["tenure_days"].clip(lower=0).fillna(0))
    for column in _ENGAGEMENT_LOG_COLUMNS:
        out[f"log_{column}"] = np.log1p(num[column].fillna(0).clip(lower=0))
    out["prior_engaged_capped"] = num["prior_engaged_calls"].fillna(0).clip(upper=3)
    out["prior_engage_rate"] = (num["prior_engaged_calls"].fillna(0) + 0.3) / (num["prior_calls"].fillna(0) + 1.0)
    out["last_call_engaged"] = num["last_call_engaged"].fillna(0)
    out["log_days_since_last_call"] = np.log1p(_days_since(num["days_since_last_call"]).clip(lower=0))
    out["log_days_since_last_event"] = np.log1p(_days_since(num["days_since_last_event"]).clip(lower=0))
    categorical = _categorical_text(frame, ENGAGEMENT_CATEGORICAL)
    return pd.concat([categorical, out.astype(float)], axis=1)


def derived_categorical(derived: pd.DataFrame) -> list[str]:
    """Names of the categorical columns of a derived frame (object dtype)."""
    return [c for c in derived.columns if derived[c].dtype == object]


def derived_numeric(derived: pd.DataFrame) -> list[str]:
    """Names of the numeric columns of a derived frame."""
    return [c for c in derived.columns if derived[c].dtype != object]
