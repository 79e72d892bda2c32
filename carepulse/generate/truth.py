"""Ground truth: what the generator knows and a model can only estimate.

Why a separate folder (<out>/../ground_truth/): the raw folder must look like real input,
so the latent variables (hazards, engagement levels, exact call probabilities, which rows
were made bad on purpose) live next to it, never in it. This module builds
patient_truth.parquet and the factor_weights.json summary, and holds the churn oracle.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import params
from .calendar import SECONDS_PER_DAY, Window
from .hazard import daily_event_rate, survival
from .ids import choice_strings
from .patients import PatientFrame

TRUTH_DIR_NAME = "ground_truth"


def churned_at_end(pf: PatientFrame, window: Window, last_event_s: np.ndarray) -> np.ndarray:
    """The study's definition: last event more than 90 days before end_date; with no events,
    enrolled more than 90 days before it. Day differences are calendar days."""
    last_day = np.where(last_event_s >= 0, last_event_s // SECONDS_PER_DAY, pf.enroll_day)
    return (window.end_day - last_day) > params.CHURN_INACTIVITY_DAYS


def patient_truth_table(
    pf: PatientFrame, window: Window, last_event_s: np.ndarray, n_events: np.ndarray, keepalive: np.ndarray,
    patient_ids: pa.Array,
) -> pa.Table:
    """One row per clean patient with the latent churn state and every hazard term."""
    end_s = (window.end_day + 1) * SECONDS_PER_DAY
    churned_by_end = pf.churn_day <= window.end_day
    t_end = np.clip((np.minimum(pf.churn_s, end_s) - pf.enroll_s) / (SECONDS_PER_DAY * params.DAYS_PER_MONTH), 0, None)
    columns: dict[str, pa.Array] = {
        "patient_id": patient_ids,
        "as_of_date": pa.array(np.full(pf.n, np.datetime64(window.end_date, "D")), type=pa.date32()),
        "enrolled_at": pa.array(window.to_timestamp(pf.enroll_s), type=pa.timestamp("s")),
        "primary_condition": choice_strings(params.CONDITIONS, pf.condition),
        "location_type": choice_strings(params.LOCATIONS, pf.location),
        "referral_source": choice_strings(params.REFERRALS, pf.referral),
        "plan_type": choice_strings(params.PLANS, pf.plan),
        "sex": choice_strings(params.SEXES, pf.sex),
        "age_at_enrollment": pa.array(np.round(pf.age, 3)),
        "engagement_level": pa.array(pf.level0),
        "engagement_decay_monthly": pa.array(pf.decay),
        "engagement_level_at_end": pa.array(pf.level0 * np.exp(-pf.decay * t_end)),
        "event_rate_per_day": pa.array(params.EVENT_RATE_PER_DAY * pf.level0),
        "churn_hazard_monthly": pa.array(pf.h0),
        "hazard_growth_monthly": pa.array(pf.growth),
        "churn_hazard_monthly_at_end": pa.array(pf.h0 * np.exp(pf.growth * t_end)),
        "churn_at": pa.array(window.to_timestamp(np.minimum(pf.churn_s, end_s)), type=pa.timestamp("s"), mask=~churned_by_end),
        "churn_date": pa.array(window.to_date(np.minimum(pf.churn_day, window.end_day)), type=pa.date32(), mask=~churned_by_end),
        "is_churned_at_end": pa.array(churned_at_end(pf, window, last_event_s)),
        "last_event_at": pa.array(window.to_timestamp(np.maximum(last_event_s, 0)), type=pa.timestamp("s"), mask=last_event_s < 0),
        "n_events": pa.array(n_events.astype(np.int64)),
        "keepalive_events": pa.array(keepalive.astype(np.int64)),
        "contrib_intercept": pa.array(np.full(pf.n, params.HAZARD_INTERCEPT)),
    }
    for name, values in pf.contributions.items():
        columns[f"contrib_{name}"] = pa.array(np.asarray(values, dtype=float))
    columns["log_hazard_at_enrollment"] = pa.array(np.log(pf.h0))
    return pa.table(columns)


def oracle_churn_probability(truth_df: pd.DataFrame, cutoff: date, horizon_days: int = 90) -> pd.Series:
    """Best possible P(no engagement event on the horizon_days days after cutoff), per patient.

    Computed from the true latent process in patient_truth.parquet, not from data, so it is
    an upper bound for any model that predicts "churn in the next 90 days" at cutoff:
      * NaN for patients enrolled after cutoff (not in the population);
      * 1.0 for patients whose latent churn happened by the end of the cutoff day (they can
        still look active by the 90-day definition, but will never have another event; a real
        model can only suspect this from their silence);
      * otherwise, for a patient alive at cutoff, the exact probability under the generator's
        Gompertz churn law and daily Poisson event rates (level decay, seasonality, weekday):
          sum_j P(churn on day j | alive) * P(no events on days cutoff+1 .. j-1)
          + P(alive after the horizon | alive) * P(no events in the horizon),
        including the end-of-history keep-alive event for survivors (see events.py).
    Indexed by patient_id. Use it to report the AUC / Brier score a perfect model would get.
    """
    h = int(horizon_days)
    as_of = pd.Timestamp(truth_df["as_of_date"].iloc[0]).date() if "as_of_date" in truth_df else cutoff
    window = Window(as_of)
    k_day = window.day_of(cutoff)
    end_day = window.day_of(as_of)
    enroll_s = ((pd.to_datetime(truth_df["enrolled_at"]) - pd.Timestamp(window.start_date)).dt.total_seconds()).to_numpy()
    enroll_day = np.floor(enroll_s / SECONDS_PER_DAY).astype(np.int64)
    h0 = truth_df["churn_hazard_monthly"].to_numpy(float)
    growth = truth_df["hazard_growth_monthly"].to_numpy(float)
    level0 = truth_df["engagement_level"].to_numpy(float)
    decay = truth_df["engagement_decay_monthly"].to_numpy(float)
    churn_at = pd.to_datetime(truth_df["churn_at"])
    churn_s = (churn_at - pd.Timestamp(window.start_date)).dt.total_seconds().to_numpy()
    churn_s = np.where(np.isnan(churn_s), np.inf, churn_s)

    month_s = SECONDS_PER_DAY * params.DAYS_PER_MONTH
    days = k_day + 1 + np.arange(h)  # horizon days
    # P(c >= start of day j) for j = k+1 .. k+h+1, relative to alive at start of day k+1
    bounds = (k_day + 1 + np.arange(h + 1)) * SECONDS_PER_DAY
    surv = survival(h0[:, None], growth[:, None], (bounds[None, :] - enroll_s[:, None]) / month_s)
    cond = surv / np.maximum(surv[:, :1], 1e-300)
    churn_on_day = cond[:, :-1] - cond[:, 1:]  # churn during horizon day j (no events on j)
    rates = daily_event_rate(window, days[None, :], enroll_s[:, None], level0[:, None], decay[:, None])
    silent_before = np.exp(-np.concatenate([np.zeros((len(h0), 1)), np.cumsum(rates, axis=1)[:, :-1]], axis=1))
    silent_all = np.exp(-rates.sum(axis=1))
    p = (churn_on_day * silent_before).sum(axis=1)

    # survivors of the horizon: keep-alive event on a uniform day of the last 91 days
    recent = end_day - params.CHURN_INACTIVITY_DAYS + np.arange(params.CHURN_INACTIVITY_DAYS + 1)
    in_h = (recent >= days[0]) & (recent <= days[-1])
    survive_h = cond[:, -1]
    if in_h.any():
        beyond = survival(h0, growth, ((end_day + 1) * SECONDS_PER_DAY - enroll_s) / month_s) / np.maximum(surv[:, 0], 1e-300)
        p_past_end = np.clip(beyond / np.maximum(survive_h, 1e-300), 0, 1)
        rest = recent[~in_h]
        rest_rates = daily_event_rate(window, rest[None, :], enroll_s[:, None], level0[:, None], decay[:, None]).sum(axis=1)
        eligible = enroll_day < end_day - params.CHURN_INACTIVITY_DAYS
        forced_in_h = np.where(eligible, p_past_end * np.exp(-rest_rates) * in_h.sum() / recent.size, 0.0)
        p += survive_h * silent_all * (1 - forced_in_h)
    else:
        p += survive_h * silent_all

    p = np.where(churn_s < (k_day + 1) * SECONDS_PER_DAY, 1.0, p)
    p = np.where(enroll_day > k_day, np.nan, p)
    return pd.Series(np.clip(p, 0.0, 1.0), index=truth_df["patient_id"].to_numpy(), name="oracle_churn_probability")


def factor_weights(realised: dict[str, Any]) -> dict[str, Any]:
    """factor_weights.json: every constant of params plus what this run realised."""
    return {
        "description": "Synthetic data signal of carepulse. See docs/generator.md.",
        "churn_model": {
            "log_monthly_hazard": "intercept + sum(weights[factor][level]) + age_weight_per_decade*(age-55)/10"
                                  " - engagement_beta*log(level(t))",
            "level": "level0*exp(-decay*t_months); log(level0) ~ Normal(0, level_sigma)",
            "decay": "min(decay_max, decay_base*exp(decay_gamma*(log h0 - intercept)))",
            "intercept": params.HAZARD_INTERCEPT,
            "weights": params.HAZARD_WEIGHTS,
            "age_weight_per_decade": params.AGE_WEIGHT_PER_DECADE,
            "engagement_beta": params.ENGAGEMENT_BETA,
            "level_sigma": params.LEVEL_SIGMA,
            "decay_base": params.DECAY_BASE,
            "decay_gamma": params.DECAY_GAMMA,
            "decay_max": params.DECAY_MAX,
            "churn_definition_days": params.CHURN_INACTIVITY_DAYS,
        },
        "engagement_model": {
            "logit": "intercept + sum of terms",
            "intercept": params.ENGAGE_INTERCEPT,
            "weights": params.ENGAGE_WEIGHTS,
        },
        "calibration_targets": params.CALIBRATION_TARGETS,
        "realised": realised,
        "params": params.as_dict(),
    }
