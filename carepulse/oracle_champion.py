"""The future-Champion oracle: the best possible P(top segment at one of the next three month ends).

Why a simulation and not a closed form: the label is "any of three month ends" of a joint
condition (cumulative claims and revenue above thresholds and a claim in the last days),
which has no tractable closed form. But given the generator's latent claim process
(ground_truth/provider_truth.parquet) the future is independent of the past: claims of a
provider start as a Poisson process at claims_per_active_day inside its billing window, end
after the generator's delay (0 days, or 1 + Poisson(CLAIM_EXTRA_DAYS_MEAN - 1) for a
multi-day claim), so their end dates (the date the warehouse counts) are again a Poisson
process whose daily intensity is the start rate convolved with the delay. Counts on
disjoint day ranges are independent Poisson draws and the paid amounts are iid lognormal.
So from what the month end shows (claims, revenue, days since the last claim) and the
latent rate, SIMULATIONS draws of the next three months give P(label | latent, observed)
up to Monte Carlo error: no model can do better on average. Approximations: the claims'
fixed total (multinomial, not Poisson), quarantined dirty claims and the cent rounding.

Pure functions of frames; the caller (carepulse.oracle) reads the warehouse.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import poisson

from carepulse.generate import params as gen_params

#: Monte Carlo draws per example (standard error of a probability at most 0.025).
SIMULATIONS = 400
#: Month ends of the label window (provider_champion_features_by_month: next quarter).
MONTHS_AHEAD = 3
#: Longest claim delay (start to end) taken into account; P(longer) < 1e-9.
MAX_DELAY_DAYS = 15
#: Examples simulated at once (memory: SIMULATIONS x chunk x intervals counts).
_CHUNK = 2_000

_COMPARE: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class TopSegmentRule:
    """The top segment's conditions: thresholds on cumulative claims and revenue, and
    `recent_days` (recency_days < recent_days: a claim ended in the last recent_days - 1 days)."""

    claims: tuple[tuple[str, float], ...]
    revenue: tuple[tuple[str, float], ...]
    recent_days: int | None


def top_segment_rule(rules: pd.DataFrame) -> TopSegmentRule:
    """The lowest-priority segment's conditions from the provider_segment_rules seed rows.

    The oracle simulates claim counts, revenue and the last claim date only, with absolute
    thresholds: any other measure or a percentile threshold is a ValueError naming it."""
    top = rules[rules["priority"] == rules["priority"].min()].dropna(subset=["measure"])
    claims, revenue, recent = [], [], None
    for row in top.itertuples():
        where = f"rule {row.segment}: {row.measure} {row.operator} {row.threshold} ({row.threshold_kind})"
        if row.threshold_kind != "absolute" or row.operator not in _COMPARE:
            raise ValueError(f"champion oracle: only absolute thresholds with > >= < <= are simulated, not {where}")
        if row.measure == "claim_count":
            claims.append((row.operator, float(row.threshold)))
        elif row.measure == "total_revenue":
            revenue.append((row.operator, float(row.threshold)))
        elif row.measure == "recency_days" and row.operator in ("<", "<="):
            recent = int(row.threshold) + (row.operator == "<=")
        else:
            raise ValueError(f"champion oracle: cannot simulate {where}")
    return TopSegmentRule(tuple(claims), tuple(revenue), recent)


def _delay_probabilities() -> np.ndarray:
    """P(claim end - claim start = e days), e = 0..MAX_DELAY_DAYS (claims.claims_table)."""
    p_multi = gen_params.CLAIM_MULTI_DAY
    extra = poisson.pmf(np.arange(MAX_DELAY_DAYS), gen_params.CLAIM_EXTRA_DAYS_MEAN - 1)
    return np.concatenate([[1 - p_multi], p_multi * extra])


def _holds(values: np.ndarray, conditions: tuple[tuple[str, float], ...]) -> np.ndarray:
    out = np.ones(values.shape, dtype=bool)
    for op, threshold in conditions:
        out &= _COMPARE[op](values, threshold)
    return out


def oracle_champion_probability(
    examples: pd.DataFrame, truth: pd.DataFrame, rule: TopSegmentRule, seed: int = 0
) -> np.ndarray:
    """P(top segment at one of the next MONTHS_AHEAD month ends) per example row.

    examples: provider_id, month_end_date, claim_count, total_revenue, recency_days (rows of
    marts.provider_champion_features_by_month); truth: provider_truth.parquet. A provider
    the truth does not know (added by generate --append-days) gets NaN. Deterministic for a seed.
    """
    latent = truth.set_index("provider_id")
    known = examples["provider_id"].isin(latent.index).to_numpy()
    out = np.full(len(examples), np.nan)
    rng = np.random.default_rng(seed)
    rows = examples[known].reset_index(drop=True)
    probabilities = [_simulate(rows.iloc[lo : lo + _CHUNK], latent, rule, rng) for lo in range(0, len(rows), _CHUNK)]
    out[known] = np.concatenate(probabilities) if probabilities else []
    return out


def _simulate(rows: pd.DataFrame, latent: pd.DataFrame, rule: TopSegmentRule, rng: np.random.Generator) -> np.ndarray:
    n = len(rows)
    t = pd.to_datetime(rows["month_end_date"]).to_numpy().astype("datetime64[D]")
    ends = np.stack(
        [(pd.to_datetime(rows["month_end_date"]) + pd.offsets.MonthEnd(k)).to_numpy() for k in range(1, 4)], axis=1
    ).astype("datetime64[D]")
    month_offsets = (ends - t[:, None]).astype(np.int64)  # days after t of each month end
    horizon = int(month_offsets.max())
    provider = latent.loc[rows["provider_id"].to_numpy()]
    start = (provider["billing_start_date"].to_numpy().astype("datetime64[D]") - t).astype(np.int64)
    stop = (provider["billing_stop_date"].to_numpy().astype("datetime64[D]") - t).astype(np.int64)
    rate = provider["claims_per_active_day"].to_numpy(dtype=float)
    # end-date intensity on days 1..horizon after t: the start rate convolved with the delay
    delay = _delay_probabilities()
    day = np.arange(1, horizon + 1)[None, :, None] - np.arange(len(delay))[None, None, :]
    active = (day >= start[:, None, None]) & (day <= stop[:, None, None])
    intensity = rate[:, None] * (active * delay[None, None, :]).sum(axis=2)
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(intensity, axis=1)], axis=1)
    # day ranges (b_j, b_j+1] between t, each month end and the start of its recency window
    recent_days = rule.recent_days if rule.recent_days is not None else 10**6
    recent_from = month_offsets - recent_days  # a claim ending after it is recent at the month end
    breaks = np.sort(np.concatenate([np.zeros((n, 1), dtype=np.int64), month_offsets, recent_from.clip(0)], axis=1))
    lower, upper = breaks[:, :-1], breaks[:, 1:]
    mass = np.take_along_axis(cumulative, upper, axis=1) - np.take_along_axis(cumulative, lower, axis=1)
    counts = rng.poisson(np.broadcast_to(mass, (SIMULATIONS, *mass.shape)))
    # revenue per range: the sum of its claims' lognormal amounts (mean mean_paid_per_claim)
    sigma = gen_params.PAID_SIGMA
    mean_paid = provider["mean_paid_per_claim"].to_numpy(dtype=float)
    per_claim = np.broadcast_to(mean_paid[None, :, None], counts.shape).ravel()
    flat = counts.ravel()
    draws = np.repeat(per_claim, flat) * np.exp(sigma * rng.standard_normal(int(flat.sum())) - sigma**2 / 2)
    revenue = np.bincount(np.repeat(np.arange(flat.size), flat), weights=draws, minlength=flat.size)
    revenue = revenue.reshape(counts.shape)
    claims0 = rows["claim_count"].to_numpy(dtype=float)
    revenue0 = rows["total_revenue"].to_numpy(dtype=float)
    last_claim = -rows["recency_days"].to_numpy(dtype=float)  # day of the last claim, relative to t
    top = np.zeros((SIMULATIONS, n), dtype=bool)
    for k in range(MONTHS_AHEAD):
        by_then = upper <= month_offsets[:, k : k + 1]
        in_recent = by_then & (lower >= recent_from[:, k : k + 1])
        claims = claims0 + (counts * by_then).sum(axis=2)
        total = revenue0 + (revenue * by_then).sum(axis=2)
        recent = (last_claim > recent_from[:, k])[None, :] | ((counts * in_recent).sum(axis=2) > 0)
        top |= _holds(claims, rule.claims) & _holds(total, rule.revenue) & recent
    return top.mean(axis=0)
