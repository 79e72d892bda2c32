"""Outreach calls and care journey stage changes of one appended day (generate.append).

Why these shapes: calls follow the history's recipe (rate per enrolled month by condition,
hour profile, channel and program mixes, the same logit P(engaged)), drawn per day instead
of per patient lifetime, so a day's file depends only on its own stream and on the state
carried from earlier days (each patient's engaged calls so far, which the logit uses). The
"recent activity" driver is the patient's expected event count over the 30 days before the
day (from the hazard model's daily rate), not a recount of the event files: the hidden
signal is the same and no day has to read the history's events. Journey stages are the
history's own draws (journeys_table) known one day later: a stage entered that day is a new
row, a stage completed that day is its row again with completed_at set (a feed's update:
the loader keeps the completed row and quarantines the open one as duplicate_key).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import params
from .calendar import SECONDS_PER_DAY, Window, sample_hours
from .hazard import daily_event_rate
from .ids import fixed_ids
from .journeys import journeys_table
from .outreach import (
    CALL_ID_PREFIX,
    CallBlock,
    call_truth_table,
    calls_table,
    draw_programs,
    engage_terms,
    non_engaged_outcomes,
    resolve_engagement,
)
from .patients import DAYS_PER_YEAR, PatientFrame
from .seeding import rng_for


def history_engaged_calls(out: Path, fmt: str, n_patients: int) -> np.ndarray:
    """Engaged calls per history patient (index = number - 1) in the generated calls file.

    Read from the history file only (appended days are replayed in memory), as text, so a
    dirty set's bad rows (case, blanks, orphans, malformed CSV lines) are skipped, not fatal."""
    candidates = (out / f"outreach_calls.{fmt}", out / "outreach_calls" / f"history.{fmt}")
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise ValueError(f"neither {candidates[0]} nor {candidates[1]} exists: the generated calls are needed")
    if fmt == "parquet":
        table = pq.read_table(path, columns=["patient_id", "outcome"])
    else:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(
                include_columns=["patient_id", "outcome"],
                column_types={"patient_id": pa.string(), "outcome": pa.string()},
            ),
        )
    outcome = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(table["outcome"], pa.string())))
    patient = pc.utf8_upper(pc.utf8_trim_whitespace(pc.cast(table["patient_id"], pa.string())))
    keep = pc.and_(pc.equal(outcome, "engaged"), pc.match_substring_regex(patient, r"^P[0-9]{7}$"))
    numbers = pc.cast(pc.utf8_slice_codeunits(pc.filter(patient, keep), 1), pa.int64()).to_numpy()
    numbers = numbers[(numbers >= 1) & (numbers <= n_patients)]
    return np.bincount(numbers - 1, minlength=n_patients).astype(np.int64)


def _expected_recent_events(window: Window, pf: PatientFrame, patient: np.ndarray, day: int) -> np.ndarray:
    """Expected events of each patient in the ENGAGE_RECENT_DAYS days before `day`, none after churn."""
    total = np.zeros(patient.size)
    for back in range(1, params.ENGAGE_RECENT_DAYS + 1):
        d = day - back
        rate = daily_event_rate(
            window, np.full(patient.size, d), pf.enroll_s[patient], pf.level0[patient], pf.decay[patient]
        )
        total += np.where(pf.churn_day[patient] > d, rate, 0.0)
    return total


def calls_of_day(
    seed: int, window: Window, pf: PatientFrame, ids: pa.Array, engaged_so_far: np.ndarray, j: int, day: int
) -> tuple[pa.Table, pa.Table]:
    """Raw outreach_calls rows of appended day j (day index `day`) and their call_truth rows.

    Every patient enrolled before the day may be called (as in the history, churned ones too);
    weekend days keep CALL_WEEKEND_KEEP of the rate. engaged_so_far (per patient of pf) is
    updated in place."""
    rng = rng_for(seed, "append:calls", j)
    who = np.flatnonzero(pf.enroll_day < day)
    intensity = np.asarray([params.CALL_INTENSITY[c] for c in params.CONDITIONS])[pf.condition[who]]
    weekday = int(window.weekday(np.asarray([day]))[0])
    keep = 1.0 if weekday < 5 else params.CALL_WEEKEND_KEEP
    patient = np.repeat(who, rng.poisson(params.CALL_RATE_PER_MONTH * intensity * keep / params.DAYS_PER_MONTH))
    n = patient.size
    hour = sample_hours(rng, n, params.CALL_HOUR_WEIGHTS)
    ts = day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, size=n)
    order = np.lexsort((ts, patient))
    patient, ts, hour = patient[order], ts[order], hour[order]
    condition = pf.condition[patient]
    channel = rng.choice(len(params.CHANNELS), size=n, p=np.asarray(params.CHANNEL_SHARES)).astype(np.int8)
    program = draw_programs(rng, condition)
    age = pf.age[patient] + (ts - pf.enroll_s[patient]) / (DAYS_PER_YEAR * SECONDS_PER_DAY)
    recent = _expected_recent_events(window, pf, patient, day)
    first = np.r_[True, patient[1:] != patient[:-1]] if n else np.zeros(0, dtype=bool)
    rank = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    weekdays = np.full(n, weekday)
    static = engage_terms(channel, program, hour, weekdays, condition, age, recent, np.zeros(n))
    engaged, probability, prior = resolve_engagement(static, rank, patient, engaged_so_far, rng.random(n))
    block = CallBlock(
        patient=patient,
        ts_s=ts,
        channel=channel,
        program=program,
        outcome=non_engaged_outcomes(channel, engaged, rng.random(n)),
        probability=probability,
        recent_events=np.round(recent).astype(np.int64),
        prior_engaged=prior,
        terms=engage_terms(channel, program, hour, weekdays, condition, age, recent, prior),
    )
    call_ids = fixed_ids(CALL_ID_PREFIX + "A", j * 10**5 + np.arange(n, dtype=np.int64), 8)
    raw = calls_table(block, 1, ids, window).set_column(0, "call_id", call_ids)
    truth = call_truth_table(block, 1).set_column(0, "call_id", call_ids)
    return raw, truth


def journey_changes_of_day(window: Window, groups: list[tuple[PatientFrame, int]], day: int) -> pa.Table:
    """Stage rows entered or completed on `day`, as known at its end, for each (patients,
    stream seed) group: the history's patients with the set's seed, each appended day's new
    patients with a stream of their own."""
    on = pa.scalar(window.to_date(np.asarray([day]))[0].astype(object), type=pa.date32())
    parts = []
    for pf, stream in groups:
        table = journeys_table(pf, window, stream, end_day=day)
        entered = pc.equal(pc.cast(table["entered_at"], pa.date32()), on)
        completed = pc.fill_null(pc.equal(pc.cast(table["completed_at"], pa.date32()), on), False)
        parts.append(table.filter(pc.or_(entered, completed)))
    return pa.concat_tables(parts)
