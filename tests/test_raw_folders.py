"""Issue 13 point 1: a raw table may be a folder of files (Parquet and CSV, any names), read together.

One generated set, re-laid out as folders (mixed formats, a different column order, a malformed
line, an event repeated in a later file), and one build of the audit layer: every row says which
file it came from, counted against the files themselves.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import query, run_dbt

AUDIT_SELECTION = ["--select", "+audit_quarantine", "+audit_reconciliation", "--indirect-selection", "cautious"]


def split_into_folder(raw: Path, table: str, parts: list[tuple[str, slice]]) -> dict[str, pd.DataFrame]:
    """Replace <table>.parquet by the folder <table>/ holding the given row slices as named files."""
    frame = pd.read_parquet(raw / f"{table}.parquet")
    (raw / f"{table}.parquet").unlink()
    folder = raw / table
    folder.mkdir()
    written = {}
    for name, rows in parts:
        part = frame.iloc[rows]
        if name.endswith(".csv"):
            part = part[list(reversed(part.columns))]  # another column order: read by header name
            part.to_csv(folder / name, index=False)
        else:
            part.to_parquet(folder / name, index=False)
        written[f"{table}/{name}"] = part
    return written


@pytest.fixture(scope="module")
def folder_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from carepulse.generate import generate

    base = tmp_path_factory.mktemp("folders")
    raw = base / "raw"
    generate(scale=0.01, seed=13, out=raw, fmt="parquet", dirty_rate=0.0)
    events = split_into_folder(
        raw,
        "engagement_events",
        [
            ("2024-part-a.parquet", slice(0, 20000)),
            ("day b.csv", slice(20000, 35000)),
            ("z-last.parquet", slice(35000, None)),
        ],
    )
    # an event of the first file arrives again, unchanged, in a later file: a duplicate, quarantined once
    repeated = events["engagement_events/2024-part-a.parquet"].iloc[[5]]
    repeated.to_parquet(raw / "engagement_events" / "z-repeat.parquet", index=False)
    events["engagement_events/z-repeat.parquet"] = repeated
    claims = split_into_folder(raw, "claims", [("claims-1.csv", slice(0, 2000)), ("claims-2.csv", slice(2000, None))])
    # a journey stage open in the history is completed in a later file: the completed row is kept
    stages = split_into_folder(raw, "care_journey_stages", [("history.parquet", slice(0, None))])
    history = stages["care_journey_stages/history.parquet"]
    open_stage = history[history.completed_at.isna()].sort_values("entered_at").iloc[[0]]  # well before as-of
    completion = open_stage.assign(completed_at=open_stage.entered_at + pd.Timedelta(days=2))
    completion.to_parquet(raw / "care_journey_stages" / "later.parquet", index=False)
    second = raw / "claims" / "claims-2.csv"
    lines = second.read_text().splitlines(keepends=True)
    second.write_text("".join(lines[:3] + ["too,few,fields\n"] + lines[3:]))  # line 4 of claims-2.csv
    (raw / "claims" / ".hidden.csv").write_text("not,a,contract,file\n")  # dot files are skipped
    db = base / "wh" / "wh.duckdb"
    result = run_dbt(["build", *AUDIT_SELECTION], raw, db, check=False)
    return {
        "raw": raw,
        "db": db,
        "result": result,
        "events": events,
        "claims": claims,
        "repeated": repeated,
        "completion": completion,
    }


def built(folder_build: dict) -> Path:
    result = folder_build["result"]
    assert result.returncode == 0, result.stdout[-5000:]
    return folder_build["db"]


def test_every_file_of_a_folder_is_read_and_each_row_names_its_file(folder_build: dict) -> None:
    db = built(folder_build)
    per_file = query(db, "select source_file, count(*) as n from audit.audit_engagement_events_checked group by 1")
    expected = {name: len(frame) for name, frame in folder_build["events"].items()}
    assert dict(zip(per_file.source_file, per_file.n, strict=True)) == expected
    claims = query(db, "select source_file, count(*) as n from audit.audit_claims_checked group by 1")
    counts = dict(zip(claims.source_file, claims.n, strict=True))
    second = len(folder_build["claims"]["claims/claims-2.csv"]) + 1  # the malformed line too
    assert counts == {"claims/claims-1.csv": 2000, "claims/claims-2.csv": second}
    single = query(db, "select distinct source_file from audit.audit_patients_checked").source_file.tolist()
    assert single == ["patients.parquet"]


def test_csv_columns_are_matched_by_header_name_not_position(folder_build: dict) -> None:
    db = built(folder_build)
    frame = folder_build["events"]["engagement_events/day b.csv"]
    row = frame.iloc[0]
    got = query(
        db,
        "select patient_id, event_type, cast(event_at as varchar) as event_at"
        f" from audit.audit_engagement_events_checked where event_id = '{row.event_id}'",
    )
    assert got.to_dict("records") == [
        {"patient_id": row.patient_id, "event_type": row.event_type, "event_at": str(row.event_at)}
    ]


def test_quarantine_names_the_file_of_a_malformed_line_and_of_a_duplicate(folder_build: dict) -> None:
    db = built(folder_build)
    rows = query(db, "select source_table, source_file, rule, raw_record from audit.audit_quarantine")
    malformed = rows[rows.rule == "malformed_row"]
    assert malformed.source_file.tolist() == ["claims/claims-2.csv"]
    record = json.loads(malformed.raw_record.iloc[0])
    assert (record["file"], record["line"]) == ("claims/claims-2.csv", 4)
    duplicates = rows[(rows.source_table == "engagement_events") & (rows.rule == "duplicate_key")]
    assert duplicates.source_file.tolist() == ["engagement_events/z-repeat.parquet"]  # the later file's copy
    reconciliation = query(db, "select * from audit.audit_reconciliation").set_index("source_table")
    assert reconciliation.loc["engagement_events", "rows_read"] == sum(map(len, folder_build["events"].values()))
    assert (reconciliation.rows_read == reconciliation.rows_accepted + reconciliation.rows_quarantined).all()


def test_a_file_and_a_folder_for_one_table_is_an_error(folder_build: dict, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(folder_build["raw"], raw)
    folder_build["claims"]["claims/claims-1.csv"].to_csv(raw / "claims.csv", index=False)
    result = run_dbt(["build", "--select", "int_as_of_date_resolved"], raw, tmp_path / "wh" / "wh.duckdb", check=False)
    assert result.returncode != 0
    assert "Raw input is ambiguous" in result.stdout and "claims" in result.stdout


def test_a_stage_completed_in_a_later_file_keeps_the_completed_row(folder_build: dict) -> None:
    """Whatever engine (nulls sort differently): the completed row wins, the open one is the duplicate."""
    db = built(folder_build)
    row = folder_build["completion"].iloc[0]
    rows = query(
        db,
        "select source_file, completed_at, failed_rule from audit.audit_care_journey_stages_checked"
        f" where patient_id = '{row.patient_id}' and stage = '{row.stage}' order by source_file",
    )
    assert rows.source_file.tolist() == ["care_journey_stages/history.parquet", "care_journey_stages/later.parquet"]
    assert rows.failed_rule.iloc[0] == "duplicate_key" and pd.isna(rows.failed_rule.iloc[1])
    assert rows.completed_at.iloc[1] == row.completed_at
