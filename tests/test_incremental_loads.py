"""Issue 13 point 4 (first slice): a daily load built incrementally equals a full rebuild.

What is incremental today is fct_engagement_events (var lookback_days). One generated set
with three appended days: the first build sees two of them; then the third day arrives with a
late file holding an event dated three days back, a corrected copy of an already loaded event
(same key) and, among the day's rows, a new patient. The incremental build of that must equal a
fresh build of the same files, table by table, and the corrected copy is quarantined once.
Three dbt builds of the fact's lineage (no data tests: they run in the session build).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import query, run_dbt

LINEAGE = ["build", "--select", "+fct_engagement_events", "--exclude-resource-type", "test", "unit_test"]
COMPARED = ["marts.fct_engagement_events", "audit.audit_engagement_events_checked"]


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from carepulse.generate import generate
    from carepulse.generate.append import append_days

    base = tmp_path_factory.mktemp("incremental")
    raw = base / "raw"
    generate(scale=0.01, seed=4, out=raw, fmt="parquet")
    append_days(raw, 3)
    events = raw / "engagement_events"
    held_back = base / "2026-01-03.parquet"
    shutil.move(events / "2026-01-03.parquet", held_back)
    db_incremental = base / "inc" / "wh.duckdb"
    run_dbt(LINEAGE, raw, db_incremental)

    shutil.move(held_back, events / "2026-01-03.parquet")
    day3 = pd.read_parquet(events / "2026-01-03.parquet")
    loaded = pd.read_parquet(events / "2026-01-02.parquet")
    late = day3.iloc[[0]].assign(event_id="EVLATE000001", event_at=pd.Timestamp("2025-12-31 10:00:00"))
    corrected = loaded.iloc[[0]].assign(revenue_usd=loaded.revenue_usd.iloc[0] + 10.0)
    pd.concat([late, corrected]).to_parquet(events / "2026-01-03-late.parquet", index=False)
    run_dbt(LINEAGE, raw, db_incremental)

    db_full = base / "full" / "wh.duckdb"
    run_dbt(LINEAGE, raw, db_full)
    return {"incremental": db_incremental, "full": db_full, "late": late, "corrected": corrected, "day3": day3}


def table(db: Path, name: str) -> pd.DataFrame:
    frame = query(db, f"select * from {name}")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("name", COMPARED)
def test_incremental_load_equals_full_rebuild(loads: dict, name: str) -> None:
    pd.testing.assert_frame_equal(table(loads["incremental"], name), table(loads["full"], name))


def test_late_row_new_patient_and_corrected_duplicate_are_handled_once(loads: dict) -> None:
    db = loads["incremental"]
    facts = query(db, "select event_id, patient_id from marts.fct_engagement_events")
    assert "EVLATE000001" in set(facts.event_id)  # dated three days back, loaded by the lookback
    new_patients = query(
        db,
        "select patient_id from audit.audit_patients_checked"
        " where source_file like 'patients/2026-01-03%' and failed_rule is null",
    )
    assert len(new_patients) > 0  # a new patient of the new day is accepted
    with_events = set(new_patients.patient_id) & set(loads["day3"].patient_id)
    assert with_events <= set(facts.patient_id)
    key = loads["corrected"].event_id.iloc[0]
    quarantined = query(
        db,
        "select failed_rule, source_file from audit.audit_engagement_events_checked"
        f" where record_key = '{key}' and failed_rule is not null",
    )
    assert quarantined.to_dict("records") == [
        {"failed_rule": "duplicate_key", "source_file": "engagement_events/2026-01-03-late.parquet"}
    ]
    assert (facts.event_id == key).sum() == 1
