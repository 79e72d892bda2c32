"""Insurer outreach calls for one block of patients, with a known engagement model.

Why per block with the events: one of the drivers of P(engaged) is the patient's own
activity in the 30 days before the call, so calls are drawn right after the same block's
events. A second driver, the number of earlier engaged calls, makes outcomes sequential per
patient; that is resolved with one vectorised step per call rank (a loop over ranks, not
rows). The exact probability used for every draw goes to ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import params
from .calendar import SECONDS_PER_DAY, Window, sample_hours
from .events import EventBlock
from .ids import choice_strings, fixed_ids
from .patients import DAYS_PER_YEAR, PatientFrame
from .seeding import rng_for

CALL_ID_PREFIX = "OC"
CALL_ID_WIDTH = 9


@dataclass
class CallBlock:
    """Calls of one block of patients, sorted by patient then time."""

    patient: np.ndarray
    ts_s: np.ndarray
    channel: np.ndarray
    program: np.ndarray
    outcome: np.ndarray
    probability: np.ndarray
    recent_events: np.ndarray
    prior_engaged: np.ndarray
    terms: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.patient)


def _lookup(table: dict[str, float], names: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    return np.asarray([table[name] for name in names])[codes]


def _hour_term(hours: np.ndarray) -> np.ndarray:
    w = params.ENGAGE_WEIGHTS["hour"]
    per_hour = np.asarray([w.get(str(h), w["other"]) for h in range(24)])
    return per_hour[hours]


def engage_terms(
    channel: np.ndarray,
    program: np.ndarray,
    hour: np.ndarray,
    weekday: np.ndarray,
    condition: np.ndarray,
    age: np.ndarray,
    recent_events: np.ndarray,
    prior_engaged: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each driver's additive term on logit P(engaged)."""
    w = params.ENGAGE_WEIGHTS
    return {
        "channel": _lookup(w["channel"], params.CHANNELS, channel),
        "hour": _hour_term(hour),
        "weekday": np.asarray([w["weekday"][str(d)] for d in range(7)])[weekday],
        "primary_condition": _lookup(w["primary_condition"], params.CONDITIONS, condition),
        "program": _lookup(w["program"], params.PROGRAMS, program),
        "age": w["age_per_decade"] * (age - 55.0) / 10.0,
        "recent_activity": w["recent_events_log1p"] * np.log1p(recent_events),
        "prior_engaged": w["prior_engaged"] * np.minimum(prior_engaged, params.ENGAGE_PRIOR_CAP),
    }


def _recent_event_counts(eb: EventBlock, patient: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Events of the same patient in [call - 30 days, call)."""
    shift = np.int64(1) << 36  # seconds in the window fit far below 2**36
    ev_key = eb.patient.astype(np.int64) * shift + eb.ts_s  # already sorted
    key = patient.astype(np.int64) * shift + ts
    span = params.ENGAGE_RECENT_DAYS * SECONDS_PER_DAY
    return np.searchsorted(ev_key, key, side="left") - np.searchsorted(ev_key, key - span, side="left")


def draw_programs(rng: np.random.Generator, condition: np.ndarray) -> np.ndarray:
    """Program of each call, from the condition's program mix."""
    mix = np.asarray([params.PROGRAM_MIX[c] for c in params.CONDITIONS])
    cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    n = condition.size
    return np.minimum((rng.random(n)[:, None] > cum[condition]).sum(axis=1), len(params.PROGRAMS) - 1).astype(np.int8)


def resolve_engagement(
    static: dict[str, np.ndarray], rank: np.ndarray, owner: np.ndarray, engaged_so_far: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Engaged or not for calls that depend on the same patient's earlier engaged calls:
    one vectorised step per call rank. `owner` indexes engaged_so_far (updated in place:
    appended days carry it from day to day). Returns engaged, probability, prior engaged."""
    n = rank.size
    static_logit = params.ENGAGE_INTERCEPT + sum(v for k, v in static.items() if k != "prior_engaged")
    prior = np.zeros(n, dtype=np.int64)
    engaged = np.zeros(n, dtype=bool)
    probability = np.zeros(n)
    for r in range(int(rank.max()) + 1 if n else 0):
        idx = np.flatnonzero(rank == r)
        prior[idx] = engaged_so_far[owner[idx]]
        logit = static_logit[idx] + params.ENGAGE_WEIGHTS["prior_engaged"] * np.minimum(
            prior[idx], params.ENGAGE_PRIOR_CAP
        )
        probability[idx] = 1.0 / (1.0 + np.exp(-logit))
        engaged[idx] = u[idx] < probability[idx]
        engaged_so_far[owner[idx]] += engaged[idx]
    return engaged, probability, prior


def non_engaged_outcomes(channel: np.ndarray, engaged: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Outcome codes: 0 engaged, else the channel's split of non-engaged outcomes by uniform draws v."""
    outcome = np.zeros(channel.size, dtype=np.int8)
    for c, name in enumerate(params.CHANNELS):
        split = np.asarray(params.NON_ENGAGED_SPLIT[name], dtype=float)
        cum_split = np.cumsum(split / split.sum())
        mask = (channel == c) & ~engaged
        outcome[mask] = 1 + np.minimum((v[mask, None] > cum_split[None, :]).sum(axis=1), len(split) - 1)
    return outcome


def generate_call_block(pf: PatientFrame, window: Window, eb: EventBlock, seed: int, block: int) -> CallBlock:
    """Draw the calls of the event block's patients and their outcomes."""
    rng = rng_for(seed, "outreach", block)
    lo, hi = eb.lo, eb.hi
    first_day = pf.enroll_day[lo:hi] + 1  # calls start the day after enrollment
    n_days = np.maximum(window.end_day - first_day + 1, 0)
    intensity = np.asarray([params.CALL_INTENSITY[c] for c in params.CONDITIONS])[pf.condition[lo:hi]]
    counts = rng.poisson(params.CALL_RATE_PER_MONTH * intensity * n_days / params.DAYS_PER_MONTH)
    local = np.repeat(np.arange(hi - lo), counts)
    n = local.size
    day = first_day[local] + np.floor(rng.random(n) * n_days[local]).astype(np.int64)
    # most weekend calls move to the adjacent weekday (Saturday -> Friday, Sunday -> Monday)
    wd = window.weekday(day)
    move = (wd >= 5) & (rng.random(n) >= params.CALL_WEEKEND_KEEP)
    moved = np.where(wd == 5, day - 1, day + 1)
    ok = move & (moved >= first_day[local]) & (moved <= window.end_day)
    day = np.where(ok, moved, day)
    hour = sample_hours(rng, n, params.CALL_HOUR_WEIGHTS)
    ts = day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, size=n)
    order = np.lexsort((ts, local))
    local, ts, hour, day = local[order], ts[order], hour[order], day[order]
    patient = lo + local

    condition = pf.condition[patient]
    channel = rng.choice(len(params.CHANNELS), size=n, p=np.asarray(params.CHANNEL_SHARES)).astype(np.int8)
    program = draw_programs(rng, condition)
    age = pf.age[patient] + (ts - pf.enroll_s[patient]) / (DAYS_PER_YEAR * SECONDS_PER_DAY)
    recent = _recent_event_counts(eb, patient, ts)

    # rank of each call within its patient, then one vectorised step per rank
    starts = np.cumsum(counts) - counts
    rank = np.arange(n) - starts[local]
    engaged_so_far = np.zeros(hi - lo, dtype=np.int64)
    u = rng.random(n)
    static = engage_terms(channel, program, hour, window.weekday(day), condition, age, recent, np.zeros(n))
    engaged, probability, prior = resolve_engagement(static, rank, local, engaged_so_far, u)
    terms = engage_terms(channel, program, hour, window.weekday(day), condition, age, recent, prior)
    outcome = non_engaged_outcomes(channel, engaged, rng.random(n))
    return CallBlock(
        patient=patient,
        ts_s=ts,
        channel=channel,
        program=program,
        outcome=outcome,
        probability=probability,
        recent_events=recent,
        prior_engaged=prior,
        terms=terms,
    )


def calls_table(cb: CallBlock, first_number: int, patient_ids: pa.Array, window: Window) -> pa.Table:
    """Raw `outreach_calls` rows of a block; ids continue from first_number."""
    return pa.table(
        {
            "call_id": call_ids(cb, first_number),
            "patient_id": patient_ids.take(pa.array(cb.patient)),
            "called_at": pa.array(window.to_timestamp(cb.ts_s), type=pa.timestamp("s")),
            "channel": choice_strings(params.CHANNELS, cb.channel),
            "program": choice_strings(params.PROGRAMS, cb.program),
            "outcome": choice_strings(params.OUTCOMES, cb.outcome),
        }
    )


def call_ids(cb: CallBlock, first_number: int) -> pa.StringArray:
    return fixed_ids(CALL_ID_PREFIX, np.arange(first_number, first_number + cb.n, dtype=np.int64), CALL_ID_WIDTH)


def call_truth_table(cb: CallBlock, first_number: int) -> pa.Table:
    """call_truth rows: the exact engage probability and the drivers behind it."""
    columns: dict[str, pa.Array] = {
        "call_id": call_ids(cb, first_number),
        "engage_probability": pa.array(cb.probability),
        "recent_events_30d": pa.array(cb.recent_events.astype(np.int64)),
        "prior_engaged_calls": pa.array(cb.prior_engaged.astype(np.int64)),
        "logit_intercept": pa.array(np.full(cb.n, params.ENGAGE_INTERCEPT)),
    }
    for name, values in cb.terms.items():
        columns[f"logit_{name}"] = pa.array(np.asarray(values, dtype=float))
    return pa.table(columns)
