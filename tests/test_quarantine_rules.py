"""Quarantine and as-of promises of the README, on one hand-made raw set (Parquet, with a
stale CSV next to it) built once: duplicates keep the first row by date then content, a
share between the warn and error gates warns without failing, Parquet wins over CSV, and
without CAREPULSE_AS_OF the as-of date falls back to the latest claim or call date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from conftest import query, run_dbt, write_raw_tables
from test_foundation import minimal_raw_tables

CLEAN_EVENTS = 58
LATEST_CLAIM_END = "2025-07-15"  # later than every event (2025-06-30) and call
LATEST_CALL = "2025-08-01 09:30:00"
# (event_id, event_at, event_type): file order on purpose, so the kept row is never just the first one read.
DUPLICATES = [
    ("ED1", "2025-03-05 10:00:00", "login"),
    ("ED1", "2025-03-01 10:00:00", "message"),  # earlier date: kept, although written second and "message" > "login"
    ("ED2", "2025-03-02 10:00:00", "message"),
    ("ED2", "2025-03-02 10:00:00", "login"),  # same date: kept by content ("login" < "message")
]


def promise_tables() -> dict[str, pd.DataFrame]:
    tables = minimal_raw_tables()
    clean = pd.DataFrame(
        {
            "event_id": [f"EC{i:03d}" for i in range(CLEAN_EVENTS)],
            "patient_id": ["P1", "P2"] * (CLEAN_EVENTS // 2),
            "event_at": [f"2025-01-{1 + i % 28:02d} 08:00:00" for i in range(CLEAN_EVENTS)],
            "event_type": "health_tracking",
            "revenue_usd": "0",
        }
    )
    duplicates = pd.DataFrame(DUPLICATES, columns=["event_id", "event_at", "event_type"]).assign(
        patient_id="P1", revenue_usd="0"
    )
    tables["engagement_events"] = pd.concat([tables["engagement_events"], clean, duplicates], ignore_index=True)
    tables["claims"]["claim_end_date"] = LATEST_CLAIM_END
    return tables


@dataclass(frozen=True)
class Built:
    raw: Path
    db: Path
    tables: dict[str, pd.DataFrame]
    output: str
    returncode: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("quarantine_rules")
    tables = promise_tables()
    raw = write_raw_tables(base / "raw", tables, fmt="parquet")
    # A stale CSV export of one table next to the Parquet file: the Parquet file must win.
    stale = tables["engagement_events"].head(3).assign(event_id=["CSV1", "CSV2", "CSV3"])
    write_raw_tables(raw, {"engagement_events": stale}, fmt="csv")
    db = base / "carepulse.duckdb"
    result = run_dbt(
        [
            "build",
            "--select",
            "+audit_reconciliation",
            "+audit_quarantine",
            "+int_engagement_events_accepted",
            "+int_as_of_date_resolved",
            "--indirect-selection",
            "cautious",
        ],
        raw,
        db,
        check=False,
    )
    return Built(raw, db, tables, result.stdout, result.returncode)


def test_duplicates_keep_the_first_row_by_date_then_content(built: Built) -> None:
    assert built.returncode == 0, built.output[-3000:]
    accepted = query(
        built.db,
        "select event_id, cast(event_at as varchar) as event_at, event_type "
        "from intermediate.int_engagement_events_accepted where event_id like 'ED%' "
        "order by event_id",
    )
    assert accepted.values.tolist() == [
        ["ED1", "2025-03-01 10:00:00", "message"],
        ["ED2", "2025-03-02 10:00:00", "login"],
    ]
    quarantined = query(
        built.db,
        "select record_key, rule, raw_record from audit.audit_quarantine "
        "where source_table = 'engagement_events' order by record_key",
    )
    assert quarantined[["record_key", "rule"]].values.tolist() == [["ED1", "duplicate_key"], ["ED2", "duplicate_key"]]
    assert "2025-03-05" in quarantined.raw_record[0] and '"message"' in quarantined.raw_record[1]


def test_a_share_between_the_gates_warns_and_the_build_succeeds(built: Built) -> None:
    reconciliation = query(built.db, "select * from audit.audit_reconciliation").set_index("source_table")
    events = reconciliation.loc["engagement_events"]
    share = events.rows_quarantined / events.rows_read
    assert 0.01 < share < 0.05  # 2 of 64: past quarantine_warn_share, under quarantine_error_share
    assert (reconciliation.drop(index="engagement_events").rows_quarantined == 0).all()
    assert built.returncode == 0
    gate = "quarantine_share_within_audit_reconciliation__var_quarantine_{}_share_"
    assert f"WARN 1 {gate.format('warn')}" in built.output, built.output[-3000:]
    assert f"PASS {gate.format('error')}" in built.output and "ERROR=0" in built.output


def test_parquet_wins_when_both_files_exist(built: Built) -> None:
    reconciliation = query(built.db, "select * from audit.audit_reconciliation").set_index("source_table")
    assert reconciliation.loc["engagement_events", "rows_read"] == len(built.tables["engagement_events"])
    ids = set(query(built.db, "select event_id from intermediate.int_engagement_events_accepted").event_id)
    assert not ids & {"CSV1", "CSV2", "CSV3"} and "EC000" in ids


def test_as_of_falls_back_to_the_latest_claim_then_call_date(built: Built) -> None:
    as_of = query(
        built.db, "select cast(as_of_date as varchar) as d, as_of_source from intermediate.int_as_of_date_resolved"
    )
    assert as_of.values.tolist() == [[LATEST_CLAIM_END, "latest_activity"]]
    # A later call moves it again (rebuild of the as-of model and its per-file dates on the same
    # warehouse; a changed raw file needs --full-refresh of the incremental per-file dates).
    tables = dict(built.tables)
    tables["outreach_calls"] = tables["outreach_calls"].assign(called_at=LATEST_CALL)
    write_raw_tables(built.raw, {"outreach_calls": tables["outreach_calls"]}, fmt="parquet")
    run_dbt(
        ["run", "--full-refresh", "--select", "int_activity_dates_by_file_collected", "int_as_of_date_resolved"],
        built.raw,
        built.db,
    )
    as_of = query(built.db, "select cast(as_of_date as varchar) as d from intermediate.int_as_of_date_resolved")
    assert as_of.d.tolist() == [LATEST_CALL[:10]]
