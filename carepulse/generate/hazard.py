"""The churn process: a per-patient Gompertz hazard tied to a decaying engagement level.

Why this form: the brief asks that (a) named factors drive a monthly churn hazard, (b) a
latent engagement level drives both the event rate and the hazard, so observed activity
predicts churn, and (c) the level decays faster for riskier patients, so the recent
activity trend is predictive too. With level(t) = level0 * exp(-delta * t) and
log h(t) = log h0 - beta * (log level(t) - log level0) the hazard grows exponentially,
h(t) = h0 * exp(k t) with k = beta * delta: a Gompertz law, whose survival function and
inverse are closed form. That keeps sampling exact and the ground-truth oracle exact.
Time t is in months (DAYS_PER_MONTH days) since enrollment.
"""

from __future__ import annotations

import numpy as np

from . import params
from .calendar import SECONDS_PER_DAY, Window

_TINY = 1e-12


def cumulative_hazard(h0: np.ndarray, k: np.ndarray, t_months: np.ndarray) -> np.ndarray:
    """H(t) = h0 / k * (exp(k t) - 1), or h0 * t when k = 0; zero for t <= 0."""
    h0, k, t = np.broadcast_arrays(np.asarray(h0, float), np.asarray(k, float), np.asarray(t_months, float))
    t = np.maximum(t, 0.0)
    safe_k = np.where(k > _TINY, k, 1.0)
    return np.where(k > _TINY, h0 / safe_k * np.expm1(safe_k * t), h0 * t)


def survival(h0: np.ndarray, k: np.ndarray, t_months: np.ndarray) -> np.ndarray:
    """P(no churn within t months of enrollment)."""
    return np.exp(-cumulative_hazard(h0, k, t_months))


def sample_churn_months(h0: np.ndarray, k: np.ndarray, exp_draws: np.ndarray) -> np.ndarray:
    """Invert H(t) = E for E ~ Exp(1): months from enrollment to churn."""
    h0 = np.asarray(h0, float)
    k = np.asarray(k, float)
    safe_k = np.where(k > _TINY, k, 1.0)
    return np.where(k > _TINY, np.log1p(safe_k * exp_draws / h0) / safe_k, exp_draws / h0)


def daily_event_rate(
    window: Window,
    days: np.ndarray,
    enroll_s: np.ndarray,
    level0: np.ndarray,
    decay: np.ndarray,
) -> np.ndarray:
    """Expected events of a patient on each given day index (arrays broadcast together).

    rate = EVENT_RATE_PER_DAY * level(t_mid) * seasonality * weekday * share of the day
    after enrollment, where t_mid is the middle of the enrolled part of the day. Days before
    enrollment get 0. The caller decides which days are before the churn day.
    """
    days = np.asarray(days, dtype=np.int64)
    day_start = days * SECONDS_PER_DAY
    span_start = np.maximum(day_start, enroll_s)
    span = np.clip(day_start + SECONDS_PER_DAY - span_start, 0, SECONDS_PER_DAY)
    t_mid_months = np.maximum((span_start + span / 2.0) - enroll_s, 0.0) / (SECONDS_PER_DAY * params.DAYS_PER_MONTH)
    factor = window.activity_factor(days)
    return params.EVENT_RATE_PER_DAY * level0 * np.exp(-decay * t_mid_months) * factor * (span / SECONDS_PER_DAY)
