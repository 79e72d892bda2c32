"""Engagement events for one block of patients, on the daily grid of the churn process.

Why a daily grid: each enrolled, not-yet-churned day of a patient gets a Poisson count with
mean hazard.daily_event_rate (level x seasonality x weekday), so the ground-truth oracle
can compute the exact probability of a silent horizon from the same rates. Events stop the
day the patient churns. One guarantee is added on top of the Poisson draws: a patient who
has not churned by end_date and enrolled more than 90 days before it always has an event in
the last 91 days (a "keep-alive" login), so the study's churn definition and the latent
truth agree for every surviving patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import params
from .calendar import SECONDS_PER_DAY, Window, sample_time_of_day
from .hazard import daily_event_rate
from .ids import choice_strings, fixed_ids
from .patients import PatientFrame
from .seeding import rng_for

EVENT_ID_PREFIX = "EV"
EVENT_ID_WIDTH = 10


@dataclass
class EventBlock:
    """Events of patients lo..hi-1, sorted by patient then time."""

    lo: int
    hi: int
    patient: np.ndarray  # global patient index
    ts_s: np.ndarray  # seconds since window start
    etype: np.ndarray
    revenue: np.ndarray
    forced: np.ndarray  # per patient of the block: keep-alive events added

    @property
    def n(self) -> int:
        return len(self.patient)

    def last_event_s(self) -> np.ndarray:
        """Per patient of the block: time of the last event, or -1 when none."""
        out = np.full(self.hi - self.lo, -1, dtype=np.int64)
        if self.n:
            np.maximum.at(out, self.patient - self.lo, self.ts_s)
        return out

    def counts(self) -> np.ndarray:
        return np.bincount(self.patient - self.lo, minlength=self.hi - self.lo)


def active_days(pf: PatientFrame, window: Window, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """(local patient index, day index) of every day a patient can have events."""
    first = pf.enroll_day[lo:hi]
    last = np.minimum(pf.churn_day[lo:hi] - 1, window.end_day)
    ndays = np.maximum(last - first + 1, 0)
    local = np.repeat(np.arange(hi - lo), ndays)
    starts = np.cumsum(ndays) - ndays
    day = first[local] + (np.arange(local.size) - starts[local])
    return local, day


def generate_event_block(pf: PatientFrame, window: Window, seed: int, block: int, lo: int, hi: int) -> EventBlock:
    """Draw the events of patients lo..hi-1 from their own random stream."""
    rng = rng_for(seed, "events", block)
    local, day = active_days(pf, window, lo, hi)
    g = lo + local
    rate = daily_event_rate(window, day, pf.enroll_s[g], pf.level0[g], pf.decay[g])
    counts = rng.poisson(rate)
    cell = np.repeat(np.arange(local.size), counts)
    ev_local = local[cell]
    ev_day = day[cell]
    n = ev_local.size
    tod = sample_time_of_day(rng, n, params.EVENT_HOUR_WEIGHTS)
    # on the enrollment day, events fall after the enrollment time
    enroll_tod = pf.enroll_s[lo + ev_local] - pf.enroll_day[lo + ev_local] * SECONDS_PER_DAY
    on_enroll_day = ev_day == pf.enroll_day[lo + ev_local]
    after = enroll_tod + np.floor(rng.random(n) * (SECONDS_PER_DAY - enroll_tod)).astype(np.int64)
    tod = np.where(on_enroll_day, after, tod)
    ts = ev_day * SECONDS_PER_DAY + tod

    # keep-alive: survivors enrolled > 90 days before the end need an event in the last 91 days
    recent_from = window.end_day - params.CHURN_INACTIVITY_DAYS
    size = hi - lo
    has_recent = np.zeros(size, dtype=bool)
    has_recent[ev_local[ev_day >= recent_from]] = True
    survivor = pf.churn_day[lo:hi] > window.end_day
    old_enough = pf.enroll_day[lo:hi] < recent_from
    need = np.flatnonzero(survivor & old_enough & ~has_recent)
    forced = np.zeros(size, dtype=np.int64)
    forced[need] = 1
    k = need.size
    fix_day = rng.integers(recent_from, window.end_day + 1, size=k)
    fix_ts = fix_day * SECONDS_PER_DAY + sample_time_of_day(rng, k, params.EVENT_HOUR_WEIGHTS)
    ev_local = np.concatenate([ev_local, need])
    ts = np.concatenate([ts, fix_ts])
    n = ev_local.size

    etype = draw_event_types(rng, pf.condition[lo + ev_local])
    etype[n - k :] = params.EVENT_TYPES.index("login")
    revenue = draw_event_revenue(rng, etype)

    order = np.lexsort((ts, ev_local))
    return EventBlock(
        lo=lo,
        hi=hi,
        patient=(lo + ev_local[order]).astype(np.int64),
        ts_s=ts[order].astype(np.int64),
        etype=etype[order],
        revenue=revenue[order],
        forced=forced,
    )


def draw_event_types(rng: np.random.Generator, condition: np.ndarray) -> np.ndarray:
    """Event type codes from each patient condition's mix (one uniform draw per event)."""
    mix = np.asarray([params.EVENT_TYPE_MIX[c] for c in params.CONDITIONS])
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(condition.size)
    etype = (u[:, None] > cum[condition]).sum(axis=1).astype(np.int8)
    return np.minimum(etype, len(params.EVENT_TYPES) - 1)


def draw_event_revenue(rng: np.random.Generator, etype: np.ndarray) -> np.ndarray:
    """Billed revenue per event: log-normal by type, 0 for types that bill nothing."""
    revenue = np.zeros(etype.size)
    z = rng.standard_normal(etype.size)
    for name, (median, sigma) in params.EVENT_REVENUE.items():
        mask = etype == params.EVENT_TYPES.index(name)
        revenue[mask] = np.round(median * np.exp(sigma * z[mask]), 2)
    return revenue


def events_table(eb: EventBlock, first_number: int, patient_ids: pa.Array, window: Window) -> pa.Table:
    """Raw `engagement_events` rows of a block; ids continue from first_number."""
    numbers = np.arange(first_number, first_number + eb.n, dtype=np.int64)
    return pa.table(
        {
            "event_id": fixed_ids(EVENT_ID_PREFIX, numbers, EVENT_ID_WIDTH),
            "patient_id": patient_ids.take(pa.array(eb.patient)),
            "event_at": pa.array(window.to_timestamp(eb.ts_s), type=pa.timestamp("s")),
            "event_type": choice_strings(params.EVENT_TYPES, eb.etype),
            "revenue_usd": pa.array(eb.revenue, type=pa.float64()),
        }
    )
