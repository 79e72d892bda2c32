"""append_days(): extend a generated raw set by N days, as a daily feed would deliver them.

Why a replay and day-keyed random streams: the hidden signal lives in the patient and
provider frames, which are pure functions of (scale, seed, end_date), so they are drawn again
instead of being stored; every appended day then draws from its own stream, keyed by its day
number, so the same seed gives the same days whether they are appended at once or one by one.
Each table's history file moves once into its folder (<table>/history.<ext>) and each day
adds <table>/<YYYY-MM-DD>.<ext>: the raw contract's folder layout, nothing special to the loader.

Covered per day: new patients (a few, enrolled that day), rarely a new provider, the
engagement events of every enrolled, not-yet-churned patient (same daily rates as the
history), claims, outreach calls and care journey stage changes (append_activity). Outreach
outcomes depend on each patient's earlier engaged calls, so the history's calls are counted
once and every appended day is replayed in memory (cheap: no events are drawn for it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import params
from .append_activity import calls_of_day, history_engaged_calls, journey_changes_of_day
from .calendar import SECONDS_PER_DAY, Window, sample_time_of_day
from .claims import claims_table
from .events import EVENT_ID_PREFIX, draw_event_revenue, draw_event_types
from .hazard import daily_event_rate
from .ids import choice_strings, fixed_ids
from .patients import PatientFrame, patients_table, sample_patients
from .providers import ProviderFrame, providers_table, sample_providers
from .seeding import rng_for, stream_code
from .truth import TRUTH_DIR_NAME
from .writer import FORMATS, RAW_SCHEMAS, text_schema, write_parquet

#: New patients of appended day j are numbered APPENDED_PATIENT_BASE + j * 100 + i.
APPENDED_PATIENT_BASE = 7_000_000
STATE_FILE = "append_state.json"


@dataclass
class AppendResult:
    """What an append_days() run wrote."""

    days: list[str]
    row_counts: dict[str, int]


@dataclass(frozen=True)
class _Origin:
    """The generate() run the set came from (its factor_weights.json) and the days appended so far."""

    scale: float
    seed: int
    end_date: date
    dirty: bool
    appended: int


def _origin(truth_dir: Path) -> _Origin:
    weights = truth_dir / "factor_weights.json"
    if not weights.exists():
        raise ValueError(f"{weights} not found: --append-days extends a set written by `carepulse generate`")
    realised = json.loads(weights.read_text())["realised"]
    state = truth_dir / STATE_FILE
    appended = json.loads(state.read_text())["appended_days"] if state.exists() else 0
    return _Origin(
        float(realised["scale"]),
        int(realised["seed"]),
        date.fromisoformat(realised["end_date"]),
        float(realised["dirty_rate"]) > 0,
        int(appended),
    )


def _concat_patients(frames: list[PatientFrame]) -> PatientFrame:
    """One frame of all patients (the numbers are kept aside by the caller)."""
    arrays = {
        f.name: np.concatenate([getattr(p, f.name) for p in frames])
        for f in fields(PatientFrame)
        if f.name not in ("n", "contributions", "first_number")
    }
    return PatientFrame(n=sum(p.n for p in frames), **arrays)


def _new_patients(origin: _Origin, window: Window, n_base: int, j: int, day: int) -> PatientFrame:
    """The patients enrolling on appended day j (day index `day`): drawn like the history's,
    then moved to enroll that day (churn time, birth date and all, kept relative to it)."""
    rng = rng_for(origin.seed, "append:new_patients", j)
    k = min(int(rng.poisson(n_base * params.APPEND_NEW_PATIENT_SHARE)), 99)
    pf = sample_patients(k, window, stream_code(f"append:{origin.seed}:{j}"))
    shift = day - pf.enroll_day
    return replace(
        pf,
        first_number=APPENDED_PATIENT_BASE + j * 100,
        enroll_day=pf.enroll_day + shift,
        enroll_s=pf.enroll_s + shift * SECONDS_PER_DAY,
        churn_s=pf.churn_s + shift * SECONDS_PER_DAY,
        churn_day=pf.churn_day + shift,
        birth_date=pf.birth_date + shift.astype("timedelta64[D]"),
    )


def _new_providers(origin: _Origin, window: Window, pv: ProviderFrame, j: int, day: int) -> ProviderFrame:
    """Rarely a provider starting on appended day j, with an NPI no existing provider has."""
    rng = rng_for(origin.seed, "append:new_providers", j)
    k = int(rng.poisson(pv.n * params.APPEND_NEW_PROVIDER_SHARE))
    drawn = sample_providers(k, window, stream_code(f"append:{origin.seed}:{j}"))
    keep = ~np.isin(drawn.base, pv.base)
    return ProviderFrame(
        n=int(keep.sum()),
        base=drawn.base[keep],
        specialty=drawn.specialty[keep],
        place=drawn.place[keep],
        volume=drawn.volume[keep],
        start_day=np.full(int(keep.sum()), day),
        stop_day=np.full(int(keep.sum()), day + 10**6),
    )


def _events_of_day(origin: _Origin, window: Window, pf: PatientFrame, ids: pa.Array, j: int, day: int) -> pa.Table:
    """Events of every patient enrolled by `day` and not churned on it, at the history's daily rate."""
    rng = rng_for(origin.seed, "append:events", j)
    who = np.flatnonzero((pf.enroll_day <= day) & (pf.churn_day > day))
    rate = daily_event_rate(window, np.full(who.size, day), pf.enroll_s[who], pf.level0[who], pf.decay[who])
    patient = np.repeat(who, rng.poisson(rate))
    n = patient.size
    tod = sample_time_of_day(rng, n, params.EVENT_HOUR_WEIGHTS)
    enroll_tod = pf.enroll_s[patient] - day * SECONDS_PER_DAY
    after = enroll_tod + np.floor(rng.random(n) * (SECONDS_PER_DAY - enroll_tod)).astype(np.int64)
    ts = day * SECONDS_PER_DAY + np.where(pf.enroll_day[patient] == day, after, tod)
    etype = draw_event_types(rng, pf.condition[patient])
    revenue = draw_event_revenue(rng, etype)
    order = np.lexsort((ts, patient))
    patient, ts, etype, revenue = patient[order], ts[order], etype[order], revenue[order]
    return pa.table(
        {
            "event_id": fixed_ids(EVENT_ID_PREFIX + "A", j * 10**6 + np.arange(n, dtype=np.int64), 9),
            "patient_id": ids.take(pa.array(patient)),
            "event_at": pa.array(window.to_timestamp(ts), type=pa.timestamp("s")),
            "event_type": choice_strings(params.EVENT_TYPES, etype),
            "revenue_usd": pa.array(revenue, type=pa.float64()),
        }
    )


def _claims_of_day(
    origin: _Origin, window: Window, pf: PatientFrame, ids: pa.Array, pv: ProviderFrame, j: int, day: int
) -> pa.Table:
    """Claims starting on `day`, by the history's recipe (claims_table) on the providers active
    then and the patients enrolled by then, at the history's mean daily count."""
    rng = rng_for(origin.seed, "append:claims", j)
    per_day = params.CLAIMS_PER_SCALE * origin.scale / window.n_days
    n = int(rng.poisson(per_day))
    active = np.flatnonzero((pv.start_day <= day) & (pv.stop_day >= day))
    enrolled = np.flatnonzero(pf.enroll_day <= day)
    if n == 0 or active.size == 0 or enrolled.size == 0:
        return claims_table(0, pf, pv, window, origin.seed)
    day_window = Window(window.to_date(np.asarray([day]))[0].astype(object))
    local = day_window.end_day
    pv_day = replace(
        pv,
        n=active.size,
        base=pv.base[active],
        specialty=pv.specialty[active],
        place=pv.place[active],
        volume=pv.volume[active],
        start_day=np.full(active.size, local),
        stop_day=np.full(active.size, local),
    )
    pf_day = replace(pf, n=enrolled.size, condition=pf.condition[enrolled], first_number=1)
    table = claims_table(n, pf_day, pv_day, day_window, stream_code(f"append:{origin.seed}:{j}"))
    position = pc.subtract(pc.cast(pc.utf8_slice_codeunits(table["patient_id"], 1), pa.int64()), 1)
    table = table.set_column(1, "patient_id", ids.take(pa.array(enrolled).take(position)))
    return table.set_column(0, "claim_id", fixed_ids("CLA", j * 10**5 + np.arange(n, dtype=np.int64), 8))


def _write_day(out: Path, name: str, table: pa.Table, day: date, fmt: str, dirty: bool) -> None:
    """<out>/<name>/<day>.<fmt>, moving <out>/<name>.<fmt> to <out>/<name>/history.<fmt> first."""
    folder = out / name
    single = out / f"{name}.{fmt}"
    if single.exists():
        folder.mkdir(exist_ok=True)
        single.replace(folder / f"history.{fmt}")
    folder.mkdir(exist_ok=True)
    schema = text_schema(RAW_SCHEMAS[name]) if dirty else RAW_SCHEMAS[name]
    table = table.select(schema.names).cast(schema)
    path = folder / f"{day.isoformat()}.{fmt}"
    tmp = folder / f".{path.name}.partial"
    if fmt == "parquet":
        pq.write_table(table, tmp, compression="zstd")
    else:
        pacsv.write_csv(table, tmp)
    tmp.replace(path)


def _format(out: Path) -> str:
    for fmt in FORMATS:
        if (out / f"patients.{fmt}").exists() or list((out / "patients").glob(f"*.{fmt}")):
            return fmt
    raise ValueError(f"no generated patients file or folder in {out}")


def append_days(out: Path | str, days: int) -> AppendResult:
    """Append `days` days after the set's last day to the raw set in `out` (see the module doc)."""
    if days < 1:
        raise ValueError("--append-days must be at least 1")
    out = Path(out)
    truth_dir = out.resolve().parent / TRUTH_DIR_NAME
    origin = _origin(truth_dir)
    fmt = _format(out)
    window = Window(origin.end_date)
    pf = sample_patients(max(1, int(round(params.PATIENTS_PER_SCALE * origin.scale))), window, origin.seed)
    pv = sample_providers(max(1, int(round(params.PROVIDERS_PER_SCALE * origin.scale))), window, origin.seed)
    pv = replace(pv, stop_day=np.where(pv.stop_day >= window.end_day, window.end_day + 10**6, pv.stop_day))
    frames, numbers = [pf], [pf.numbers]
    journey_groups = [(pf, origin.seed)]
    engaged_so_far = history_engaged_calls(out, fmt, pf.n)
    counts = {name: 0 for name in ("patients", "providers", "engagement_events", "claims", "outreach_calls")}
    counts["care_journey_stages"] = 0
    written: list[str] = []
    new_truth: list[pa.Table] = []
    new_call_truth: list[pa.Table] = []
    for j in range(1, origin.appended + days + 1):
        day = window.end_day + j
        newcomers = _new_patients(origin, window, pf.n, j, day)
        frames.append(newcomers)
        numbers.append(newcomers.numbers)
        journey_groups.append((newcomers, stream_code(f"append:journeys:{origin.seed}:{j}")))
        engaged_so_far = np.concatenate([engaged_so_far, np.zeros(newcomers.n, dtype=np.int64)])
        joined = _new_providers(origin, window, pv, j, day)
        pv = ProviderFrame(
            n=pv.n + joined.n,
            **{
                f.name: np.concatenate([getattr(pv, f.name), getattr(joined, f.name)])
                for f in fields(ProviderFrame)
                if f.name != "n"
            },
        )
        everyone = _concat_patients(frames)
        ids = fixed_ids("P", np.concatenate(numbers), 7)
        calls, call_truth = calls_of_day(origin.seed, window, everyone, ids, engaged_so_far, j, day)
        if j <= origin.appended:
            continue  # replayed: its files exist already; its calls only carried engaged_so_far on
        on = window.to_date(np.asarray([day]))[0].astype(object)
        tables = {
            "patients": patients_table(newcomers, window),
            "providers": providers_table(joined),
            "engagement_events": _events_of_day(origin, window, everyone, ids, j, day),
            "claims": _claims_of_day(origin, window, everyone, ids, pv, j, day),
            "outreach_calls": calls,
            "care_journey_stages": journey_changes_of_day(window, journey_groups, day),
        }
        for name, table in tables.items():
            if table.num_rows:  # no empty files: the loader warns about empty raw files
                _write_day(out, name, table, on, fmt, origin.dirty)
                counts[name] += table.num_rows
        new_truth.append(_patient_truth(newcomers, window))
        new_call_truth.append(call_truth)
        written.append(on.isoformat())
    _extend_truth(truth_dir / "appended_patients.parquet", new_truth)
    _extend_truth(truth_dir / "appended_call_truth.parquet", new_call_truth)
    (truth_dir / STATE_FILE).write_text(json.dumps({"appended_days": origin.appended + days}) + "\n")
    return AppendResult(days=written, row_counts=counts)


def _patient_truth(pf: PatientFrame, window: Window) -> pa.Table:
    """The hidden signal of new patients: engagement level and decay, hazard, churn time."""
    return pa.table(
        {
            "patient_id": pf.ids(),
            "enrolled_at": pa.array(window.to_timestamp(pf.enroll_s), type=pa.timestamp("s")),
            "engagement_level": pa.array(pf.level0),
            "engagement_decay_monthly": pa.array(pf.decay),
            "churn_hazard_monthly": pa.array(pf.h0),
            "hazard_growth_monthly": pa.array(pf.growth),
            "churn_at": pa.array(window.to_timestamp(np.minimum(pf.churn_s, 4e9)), type=pa.timestamp("s")),
        }
    )


def _extend_truth(path: Path, tables: list[pa.Table]) -> None:
    """Add the appended days' truth rows to a ground_truth file (appended_patients: the new
    patients' hidden signal; appended_call_truth: appended calls' engage probability and terms)."""
    if not tables:
        return
    parts = [pq.read_table(path).cast(tables[0].schema)] if path.exists() else []
    write_parquet(path, pa.concat_tables(parts + tables))
