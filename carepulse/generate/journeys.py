"""Care journey stages: an ordered funnel screening -> diagnosis -> treatment -> follow_up.

Why tied to churn: a patient can only enter or complete a stage while still engaged (before
the churn time) and by end_date, so dropout in the funnel reflects the same risk factors
as churn; on top, completion rates fall for some conditions and for rural patients. A
stage is entered only after the previous one was completed, so the funnel is monotone.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import params
from .calendar import SECONDS_PER_DAY, Window
from .patients import PatientFrame
from .seeding import rng_for


def journeys_table(pf: PatientFrame, window: Window, seed: int, end_day: int | None = None) -> pa.Table:
    """The raw `care_journey_stages` table, typed, sorted by patient and stage order, as known
    at the end of day index `end_day` (default the window's last day). The draws do not
    depend on end_day, so a later end_day only adds entries and completions (appended days)."""
    rng = rng_for(seed, "journeys")
    n = pf.n
    end_s = ((window.end_day if end_day is None else end_day) + 1) * SECONDS_PER_DAY - 1
    cond_mult = np.asarray([params.STAGE_COMPLETE_CONDITION_MULT[c] for c in params.CONDITIONS])[pf.condition]
    loc_mult = np.asarray([params.STAGE_COMPLETE_LOCATION_MULT[c] for c in params.LOCATIONS])[pf.location]
    prev_done = np.ones(n, dtype=bool)
    prev_time = pf.enroll_s.astype(float)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for s, _stage in enumerate(params.STAGES):
        u_enter, u_done = rng.random(n), rng.random(n)
        gap = rng.exponential(params.STAGE_GAP_DAYS[s], n) * SECONDS_PER_DAY
        duration = params.STAGE_MEDIAN_DAYS[s] * np.exp(0.5 * rng.standard_normal(n)) * SECONDS_PER_DAY
        enter_t = np.floor(prev_time + 60 + gap)
        entered = prev_done & (u_enter < params.STAGE_ENTER[s]) & (enter_t < pf.churn_s) & (enter_t <= end_s)
        done_t = np.floor(enter_t + 60 + duration)
        p_done = np.clip(params.STAGE_COMPLETE[s] * cond_mult * loc_mult, 0, 1)
        done = entered & (u_done < p_done) & (done_t < pf.churn_s) & (done_t <= end_s)
        idx = np.flatnonzero(entered)
        parts.append(
            (idx, np.full(idx.size, s, np.int8), enter_t[idx].astype(np.int64), done_t[idx].astype(np.int64), done[idx])
        )
        prev_done, prev_time = done, done_t
    patient = np.concatenate([p[0] for p in parts])
    stage = np.concatenate([p[1] for p in parts])
    entered_s = np.concatenate([p[2] for p in parts])
    completed_s = np.concatenate([p[3] for p in parts])
    completed = np.concatenate([p[4] for p in parts])
    order = np.lexsort((stage, patient))
    patient, stage, entered_s, completed_s, completed = (
        a[order] for a in (patient, stage, entered_s, completed_s, completed)
    )
    return pa.table(
        {
            "patient_id": pf.ids().take(pa.array(patient)),
            "stage": pa.array(list(params.STAGES)).take(pa.array(stage.astype(np.int64))),
            "entered_at": pa.array(window.to_timestamp(entered_s), type=pa.timestamp("s")),
            "completed_at": pa.array(window.to_timestamp(completed_s), type=pa.timestamp("s"), mask=~completed),
        }
    )
