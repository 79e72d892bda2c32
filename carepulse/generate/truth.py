"""Ground truth: what the generator knows and a model can only estimate.

Why a separate folder (<out>/../ground_truth/): the raw folder must look like real input,
so the latent variables (hazards, engagement levels, exact call probabilities, which rows
were made bad on purpose) live next to it, never in it. This module builds
patient_truth.parquet, provider_truth.parquet and the factor_weights.json summary, and
holds the churn oracle.
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
from .providers import ProviderFrame

TRUTH_DIR_NAME = "ground_truth"


def churned_at_end(pf: PatientFrame, window: Window, last_event_s: np.ndarray) -> np.ndarray:
    """The study's definition: last event more than 90 days before end_date; with no events,
    enrolled more than 90 days before it. Day differences are calendar days."""
    last_day = np.where(last_event_s >= 0, last_event_s // SECONDS_PER_DAY, pf.enroll_day)
    return (window.end_day - last_day) > params.CHURN_INACTIVITY_DAYS


def patient_truth_table(
    pf: PatientFrame,
    window: Window,
    last_event_s: np.ndarray,
    n_events: np.ndarray,
    keepalive: np.ndarray,
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
        "churn_at": pa.array(
            window.to_timestamp(np.minimum(pf.churn_s, end_s)), type=pa.timestamp("s"), mask=~churned_by_end
        ),
        "churn_date": pa.array(
            window.to_date(np.minimum(pf.churn_day, window.end_day)), type=pa.date32(), mask=~churned_by_end
        ),
        "is_churned_at_end": pa.array(churned_at_end(pf, window, last_event_s)),
        "last_event_at": pa.array(
            window.to_timestamp(np.maximum(last_event_s, 0)), type=pa.timestamp("s"), mask=last_event_s < 0
        ),
        "n_events": pa.array(n_events.astype(np.int64)),
        "keepalive_events": pa.array(keepalive.astype(np.int64)),
        "contrib_intercept": pa.array(np.full(pf.n, params.HAZARD_INTERCEPT)),
    }
    for name, values in pf.contributions.items():
        columns[f"contrib_{name}"] = pa.array(np.asarray(values, dtype=float))
    columns["log_hazard_at_enrollment"] = pa.array(np.log(pf.h0))
    return pa.table(columns)


def _already_churned_posterior(
    window: Window,
    k_day: int,
    last_day: np.ndarray,
    enroll_s: np.ndarray,
    h0: np.ndarray,
    growth: np.ndarray,
    level0: np.ndarray,
    decay: np.ndarray,
    chunk: int = 10_000,
) -> np.ndarray:
    """P(latent churn happened by the end of day k | silent on days last_day+1 .. k, true law).

    Given the true parameters, the event history up to the cutoff only matters through the
    day of the last event (Poisson events are independent of the churn time while alive).
    """
    month_s = SECONDS_PER_DAY * params.DAYS_PER_MONTH
    out = np.zeros(len(h0))
    for lo in range(0, len(h0), chunk):
        sl = slice(lo, lo + chunk)
        gap = np.maximum(k_day - last_day[sl], 0)
        width = int(gap.max(initial=0))
        if width == 0:
            continue
        j = last_day[sl, None] + 1 + np.arange(width + 1)[None, :]  # days D+1 .. D+width+1
        valid = j <= k_day
        bounds = np.maximum(j * SECONDS_PER_DAY, enroll_s[sl, None])
        surv = survival(h0[sl, None], growth[sl, None], (bounds - enroll_s[sl, None]) / month_s)
        s_next = survival(
            h0[sl, None],
            growth[sl, None],
            (np.maximum((j + 1) * SECONDS_PER_DAY, enroll_s[sl, None]) - enroll_s[sl, None]) / month_s,
        )
        churn_on_day = np.where(valid, surv - s_next, 0.0)
        rates = np.where(valid, daily_event_rate(window, j, enroll_s[sl, None], level0[sl, None], decay[sl, None]), 0.0)
        cum = np.cumsum(rates, axis=1)
        silent_before = np.exp(-(cum - rates))
        a = (churn_on_day * silent_before).sum(axis=1)
        s_after = survival(
            h0[sl], growth[sl], (np.maximum((k_day + 1) * SECONDS_PER_DAY, enroll_s[sl]) - enroll_s[sl]) / month_s
        )
        b = s_after * np.exp(-cum[:, -1])
        out[sl] = np.where(gap > 0, a / np.maximum(a + b, 1e-300), 0.0)
    return out


def oracle_churn_probability(
    truth_df: pd.DataFrame,
    cutoff: date,
    horizon_days: int = 90,
    last_event_at: pd.Series | None = None,
) -> pd.Series:
    """Best possible P(no engagement event on the horizon_days days after cutoff), per patient.

    Computed from the true latent process in patient_truth.parquet (hazard, growth, level,
    decay, enrollment), with the generator's exact daily Poisson rates (level decay,
    seasonality, weekday) and Gompertz churn law. Indexed by patient_id; NaN for patients
    enrolled after cutoff. Two modes:

    * last_event_at=None (latent oracle): 1.0 for patients whose latent churn already happened
      by the end of the cutoff day (they may still look active by the 90-day definition but
      will never have another event), else the exact probability for a patient alive at cutoff:
          sum_j P(churn on day j | alive) * P(no events on days cutoff+1 .. j-1)
          + P(alive after the horizon | alive) * P(no events in the horizon).
      An upper bound that even a perfect model cannot reach (it knows the hidden state).
    * last_event_at given (Series by patient_id: the last event at or before cutoff, missing
      or NaT = none): the Bayes-optimal probability given everything observable at cutoff,
      mixing "already churned during the silence since the last event" (posterior pi) with the
      alive case: pi + (1 - pi) * P(alive case). This is the ceiling for a model fed the
      event history; report its AUC / Brier score next to the model's.

    Survivors past end_date get a keep-alive event in the last 91 days (events.py); that is
    included for the horizon, and ignored in the posterior (exact for cutoffs up to
    end_date - 91 days).
    """
    h = int(horizon_days)
    as_of = pd.Timestamp(truth_df["as_of_date"].iloc[0]).date() if "as_of_date" in truth_df else cutoff
    window = Window(as_of)
    k_day = window.day_of(cutoff)
    end_day = window.day_of(as_of)
    origin = pd.Timestamp(window.start_date)
    enroll_s = (pd.to_datetime(truth_df["enrolled_at"]) - origin).dt.total_seconds().to_numpy()
    enroll_day = np.floor(enroll_s / SECONDS_PER_DAY).astype(np.int64)
    h0 = truth_df["churn_hazard_monthly"].to_numpy(float)
    growth = truth_df["hazard_growth_monthly"].to_numpy(float)
    level0 = truth_df["engagement_level"].to_numpy(float)
    decay = truth_df["engagement_decay_monthly"].to_numpy(float)
    churn_s = (pd.to_datetime(truth_df["churn_at"]) - origin).dt.total_seconds().to_numpy()
    churn_s = np.where(np.isnan(churn_s), np.inf, churn_s)

    month_s = SECONDS_PER_DAY * params.DAYS_PER_MONTH
    days = k_day + 1 + np.arange(h)  # horizon days
    # survival to the start of horizon days k+1 .. k+h+1, relative to alive at the start of k+1
    bounds = (k_day + 1 + np.arange(h + 1)) * SECONDS_PER_DAY
    surv = survival(h0[:, None], growth[:, None], (bounds[None, :] - enroll_s[:, None]) / month_s)
    cond = surv / np.maximum(surv[:, :1], 1e-300)
    churn_on_day = cond[:, :-1] - cond[:, 1:]  # churn during horizon day j: no events from j on
    rates = daily_event_rate(window, days[None, :], enroll_s[:, None], level0[:, None], decay[:, None])
    cum = np.cumsum(rates, axis=1)
    silent_before = np.exp(-(cum - rates))
    silent_all = np.exp(-cum[:, -1])
    p = (churn_on_day * silent_before).sum(axis=1)

    # survivors of the horizon: the keep-alive event falls on a uniform day of the last 91 days
    recent = end_day - params.CHURN_INACTIVITY_DAYS + np.arange(params.CHURN_INACTIVITY_DAYS + 1)
    in_h = (recent >= days[0]) & (recent <= days[-1])
    survive_h = cond[:, -1]
    forced_in_h = np.zeros(len(h0))
    if in_h.any():
        s_end = survival(h0, growth, ((end_day + 1) * SECONDS_PER_DAY - enroll_s) / month_s)
        p_past_end = np.clip(s_end / np.maximum(surv[:, -1], 1e-300), 0, 1)
        rest = recent[~in_h]
        rest_rates = daily_event_rate(window, rest[None, :], enroll_s[:, None], level0[:, None], decay[:, None]).sum(
            axis=1
        )
        eligible = enroll_day < end_day - params.CHURN_INACTIVITY_DAYS
        forced_in_h = np.where(eligible, p_past_end * np.exp(-rest_rates) * in_h.sum() / recent.size, 0.0)
    p_alive = p + survive_h * silent_all * (1 - forced_in_h)

    if last_event_at is None:
        p = np.where(churn_s < (k_day + 1) * SECONDS_PER_DAY, 1.0, p_alive)
    else:
        last = pd.to_datetime(last_event_at.reindex(truth_df["patient_id"].to_numpy()))
        last_s = (last - origin).dt.total_seconds().to_numpy()
        last_day = np.where(np.isnan(last_s), enroll_day - 1, np.floor(np.nan_to_num(last_s) / SECONDS_PER_DAY)).astype(
            np.int64
        )
        pi = _already_churned_posterior(window, k_day, last_day, enroll_s, h0, growth, level0, decay)
        p = pi + (1 - pi) * p_alive
    p = np.where(enroll_day > k_day, np.nan, p)
    return pd.Series(np.clip(p, 0.0, 1.0), index=truth_df["patient_id"].to_numpy(), name="oracle_churn_probability")


def observable_churn_probability(
    truth_df: pd.DataFrame, patient_ids: pd.Series, days_inactive: pd.Series, cutoff: date, horizon_days: int = 90
) -> np.ndarray:
    """P(churn label) from the true latent parameters and the observed silence only.

    The ceiling for any model of observed activity: P(already churned | no event since the
    last one) by Bayes over the silent days, with the generator's hazard and daily event
    rates; then P(label) = P(already) + (1 - P(already)) x P(silent horizon | alive at cutoff).
    Unlike oracle_churn_probability(last_event_at=...), it takes the silence as the
    warehouse measured it (days_inactive at the cutoff), so a benchmark can compare on
    exactly the model's held-out rows. Aligned with patient_ids; rows x silent-days memory,
    so callers chunk large inputs.
    """
    rows = truth_df.set_index("patient_id").loc[patient_ids.to_numpy()]
    window = Window(pd.Timestamp(truth_df["as_of_date"].iloc[0]).date())
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
    alive_truth = truth_df.assign(churn_at=pd.NaT)
    if_alive = oracle_churn_probability(alive_truth, cutoff, horizon_days).reindex(patient_ids.to_numpy()).to_numpy()
    return already + (1 - already) * if_alive


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


def provider_truth_table(pv: ProviderFrame, window: Window, n_claims: int) -> pa.Table:
    """One row per clean provider with the latent claim process (claims.claims_table).

    Why: the future-Champion oracle (carepulse.oracle) needs what no warehouse has, each
    provider's true claim rate and billing window. A claim picks its provider with
    probability volume x active days / sum, then a uniform day of the window, so the claims
    of one provider start on its active days at claims_per_active_day =
    n_claims x volume / sum(volume x active days) each (a Poisson process up to the
    multinomial's fixed total); paid amounts are lognormal with mean mean_paid_per_claim and
    log-sigma params.PAID_SIGMA. Covers the generated history only (appended days draw
    their own rates and rarely a new provider).
    """
    active = (pv.stop_day - pv.start_day + 1).astype(float)
    weight = pv.volume * active
    spec_mult = np.asarray(params.SPECIALTY_PAID_MULT)
    shares = np.asarray(params.SPECIALTY_SHARES)
    spec_mult = spec_mult / (spec_mult * shares).sum() * shares.sum()  # as claims_table
    return pa.table(
        {
            "provider_id": pv.ids(),
            "specialty": choice_strings(params.SPECIALTIES, pv.specialty),
            "volume": pa.array(pv.volume),
            "billing_start_date": pa.array(window.to_date(pv.start_day), type=pa.date32()),
            "billing_stop_date": pa.array(window.to_date(pv.stop_day), type=pa.date32()),
            "claims_per_active_day": pa.array(n_claims * pv.volume / max(weight.sum(), 1e-300)),
            "mean_paid_per_claim": pa.array(params.PAID_MEAN * spec_mult[pv.specialty]),
        }
    )
