"""Issue 13 point 2: `carepulse generate --append-days N` extends a generated set by N days.

Events, claims, patients, providers, outreach calls and journey stage changes. No dbt here:
the files themselves are checked (the folder layout is read by the loader in
test_raw_folders.py). One tiny set, copied for each way of appending.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from carepulse.cli import main
from carepulse.config import raw_files_present
from carepulse.generate import generate
from carepulse.generate.append import append_days

END = date(2025, 12, 31)


@pytest.fixture(scope="module")
def base_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("append_base")
    generate(scale=0.01, seed=31, out=root / "raw", fmt="parquet", end_date=END)
    return root


def copy_set(base: Path, tmp_path: Path, name: str) -> Path:
    shutil.copytree(base, tmp_path / name)
    return tmp_path / name / "raw"


def read(raw: Path, table: str) -> pd.DataFrame:
    return pd.read_parquet(raw / table)


def test_same_seed_same_days_whether_appended_at_once_or_day_by_day(base_set: Path, tmp_path: Path) -> None:
    at_once = copy_set(base_set, tmp_path, "a")
    one_by_one = copy_set(base_set, tmp_path, "b")
    assert append_days(at_once, 3).days == ["2026-01-01", "2026-01-02", "2026-01-03"]
    append_days(one_by_one, 2)
    assert append_days(one_by_one, 1).days == ["2026-01-03"]
    files = sorted(path.relative_to(at_once) for path in at_once.rglob("*.parquet"))
    assert {path.parts[0] for path in files} >= {"outreach_calls", "care_journey_stages"}
    assert files == sorted(path.relative_to(one_by_one) for path in one_by_one.rglob("*.parquet"))
    for path in files:
        assert pq.read_table(at_once / path).equals(pq.read_table(one_by_one / path)), path


def test_appended_days_extend_history_consistently(base_set: Path, tmp_path: Path) -> None:
    raw = copy_set(base_set, tmp_path, "c")
    history = {
        table: pd.read_parquet(base_set / "raw" / f"{table}.parquet") for table in ("engagement_events", "claims")
    }
    assert main(["generate", "--append-days", "5", "--out", str(raw)]) == 0
    assert raw_files_present(raw)  # `carepulse build` sees the folders as raw data, not an empty folder
    events, claims, patients = read(raw, "engagement_events"), read(raw, "claims"), read(raw, "patients")
    # the history moved into the folder unchanged
    pd.testing.assert_frame_equal(
        pd.read_parquet(raw / "engagement_events" / "history.parquet"), history["engagement_events"]
    )
    new_events = events[~events.event_id.isin(history["engagement_events"].event_id)]
    new_claims = claims[~claims.claim_id.isin(history["claims"].claim_id)]
    assert len(events) == len(history["engagement_events"]) + len(new_events)
    days = {END + timedelta(days=k) for k in range(1, 6)}
    assert len(new_events) > 100 and set(new_events.event_at.dt.date) <= days
    assert set(pd.to_datetime(new_claims.claim_start_date).dt.date) <= days and len(new_claims) > 0
    assert events.event_id.is_unique and claims.claim_id.is_unique and patients.patient_id.is_unique
    assert set(new_events.patient_id) <= set(patients.patient_id)
    assert set(new_claims.patient_id) <= set(patients.patient_id)
    # new patients enrol on an appended day; no event before enrolment
    newcomers = patients[pd.to_datetime(patients.enrolled_at).dt.date > END]
    assert len(newcomers) >= 1 and set(pd.to_datetime(newcomers.enrolled_at).dt.date) <= days
    enrolled = patients.set_index("patient_id").enrolled_at
    assert (new_events.event_at.values >= pd.to_datetime(enrolled[new_events.patient_id]).values).all()
    # the hidden signal: nobody is active after their churn time, and the truth covers the newcomers
    truth = pd.read_parquet(raw.parent / "ground_truth" / "patient_truth.parquet").set_index("patient_id")
    churned = truth.churn_at.dropna()
    late = new_events[new_events.patient_id.isin(churned.index)]
    assert (late.event_at.values < churned[late.patient_id].values).all()
    appended_truth = pd.read_parquet(raw.parent / "ground_truth" / "appended_patients.parquet")
    assert set(appended_truth.patient_id) == set(newcomers.patient_id)

    # outreach calls of the appended days, to known patients enrolled before the call, with their truth
    calls = read(raw, "outreach_calls")
    history_calls = pd.read_parquet(raw / "outreach_calls" / "history.parquet")
    new_calls = calls[~calls.call_id.isin(history_calls.call_id)]
    assert calls.call_id.is_unique and len(new_calls) > 0
    assert set(new_calls.called_at.dt.date) <= days and set(new_calls.patient_id) <= set(patients.patient_id)
    assert (new_calls.called_at.values > pd.to_datetime(enrolled[new_calls.patient_id]).values).all()
    call_truth = pd.read_parquet(raw.parent / "ground_truth" / "appended_call_truth.parquet")
    assert set(call_truth.call_id) == set(new_calls.call_id)
    assert call_truth.engage_probability.between(0, 1).all()
    # journey stage changes: a row per stage entered or completed on an appended day; a completion
    # repeats an open row of an earlier file (same key and entry time) with completed_at set
    history_stages = pd.read_parquet(raw / "care_journey_stages" / "history.parquet")
    changes = pd.concat(
        [pd.read_parquet(path) for path in sorted((raw / "care_journey_stages").glob("2026-*.parquet"))]
    )
    assert len(changes) > 0 and set(changes.patient_id) <= set(patients.patient_id)
    on_day = changes.entered_at.dt.date.isin(days) | changes.completed_at.dt.date.isin(days)
    assert on_day.all()
    completed_later = changes[~changes.entered_at.dt.date.isin(days)]
    earlier = pd.concat([history_stages, changes[changes.completed_at.isna()]])
    open_rows = earlier[earlier.completed_at.isna()].set_index(["patient_id", "stage"]).entered_at
    keys = list(zip(completed_later.patient_id, completed_later.stage, strict=True))
    assert (open_rows.loc[keys].values == completed_later.entered_at.values).all()


def test_journey_changes_are_the_history_draws_known_a_day_later() -> None:
    """Stage changes of appended days, on a population big enough to have completions: each
    day's rows are exactly the stages whose entry or completion falls on that day, and a
    completion repeats a stage that was open the day before."""
    from carepulse.generate.append_activity import journey_changes_of_day
    from carepulse.generate.calendar import Window
    from carepulse.generate.journeys import journeys_table
    from carepulse.generate.patients import sample_patients

    window = Window(END)
    pf = sample_patients(3000, window, 5)
    before = journeys_table(pf, window, 5).to_pandas().set_index(["patient_id", "stage"])
    completions = 0
    for day in range(window.end_day + 1, window.end_day + 4):
        changes = journey_changes_of_day(window, [(pf, 5)], day).to_pandas()
        after = journeys_table(pf, window, 5, end_day=day).to_pandas().set_index(["patient_id", "stage"])
        new_or_changed = after[
            ~after.index.isin(before.index)
            | (after.completed_at.notna() & before.reindex(after.index).completed_at.isna())
        ]
        assert len(changes) == len(new_or_changed)
        pd.testing.assert_frame_equal(
            changes.set_index(["patient_id", "stage"]).sort_index(), new_or_changed.sort_index()
        )
        done = changes[
            changes.completed_at.notna() & changes.set_index(["patient_id", "stage"]).index.isin(before.index)
        ]
        completions += len(done)
        before = after
    assert completions > 0


def test_append_needs_a_generated_set(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    with pytest.raises(ValueError, match="factor_weights.json"):
        append_days(tmp_path / "raw", 1)
    with pytest.raises(ValueError, match="at least 1"):
        append_days(tmp_path / "raw", 0)
