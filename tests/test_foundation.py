"""The foundation end to end: raw contract errors, quarantine, reconciliation, privacy, as-of."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
from conftest import copy_project, query, run_dbt, write_raw_tables

VALID_NPI = "1234567893"
LAYER_SCHEMAS = {"staging", "intermediate", "marts", "ml", "audit"}


def minimal_raw_tables() -> dict[str, pd.DataFrame]:
    """Two patients and a row or two per table: the smallest valid raw set."""
    return {
        "patients": pd.DataFrame(
            {
                "patient_id": ["P1", "P2"],
                "first_name": ["Fakefirst1", "Fakefirst2"],
                "last_name": ["Fakelast1", "Fakelast2"],
                "email": ["p1@example.invalid", "p2@example.invalid"],
                "phone": ["555-0100-0001", "555-0100-0002"],
                "birth_date": ["1970-03-04", "1985-11-30"],
                "sex": ["F", "m"],
                "zip_code": ["02139", "90210"],
                "location_type": ["Urban ", "rural"],
                "primary_condition": ["diabetes", "copd"],
                "referral_source": ["doctor", "online"],
                "plan_type": ["commercial", "medicaid"],
                "enrolled_at": ["2024-01-05 09:00:00", "2024-02-01 12:00:00"],
            }
        ),
        "engagement_events": pd.DataFrame(
            {
                "event_id": ["E1", "E2"],
                "patient_id": ["P1", "P2"],
                "event_at": ["2025-03-01 10:00:00", "2025-06-30 08:00:00"],
                "event_type": ["login", "telemedicine_visit"],
                "revenue_usd": ["0", "55.50"],
            }
        ),
        "care_journey_stages": pd.DataFrame(
            {
                "patient_id": ["P1"],
                "stage": ["screening"],
                "entered_at": ["2024-02-01 00:00:00"],
                "completed_at": ["2024-02-10 00:00:00"],
            }
        ),
        "outreach_calls": pd.DataFrame(
            {
                "call_id": ["C1"],
                "patient_id": ["P1"],
                "called_at": ["2025-03-02 10:00:00"],
                "channel": ["phone"],
                "program": ["wellness"],
                "outcome": ["engaged"],
            }
        ),
        "providers": pd.DataFrame(
            {
                "provider_id": [VALID_NPI],
                "provider_name": ["Provider 1 Clinic"],
                "specialty": ["cardiology"],
                "state": ["MA"],
                "city": ["Boston"],
            }
        ),
        "claims": pd.DataFrame(
            {
                "claim_id": ["K1"],
                "patient_id": ["P1"],
                "provider_id": [VALID_NPI],
                "claim_start_date": ["2025-05-01"],
                "claim_end_date": ["2025-05-02"],
                "paid_amount": ["120.00"],
                "deductible_amount": ["10.00"],
                "diagnosis_code": ["E11.9"],
                "procedure_code": [""],
            }
        ),
    }


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    tables = minimal_raw_tables()
    tables["engagement_events"] = tables["engagement_events"].drop(columns=["event_type"])
    raw = write_raw_tables(tmp_path / "raw", tables)
    result = run_dbt(["build"], raw, tmp_path / "wh.duckdb", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "engagement_events.csv" in output
    assert "missing required column(s): event_type" in output


def test_missing_file_names_the_table(tmp_path: Path) -> None:
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    (raw / "claims.csv").unlink()
    result = run_dbt(["build"], raw, tmp_path / "wh.duckdb", check=False)
    assert result.returncode != 0
    assert "claims.parquet or" in result.stdout and "claims.csv" in result.stdout


def test_minimal_csv_build_types_normalises_and_resolves_as_of(tmp_path: Path) -> None:
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    db = tmp_path / "wh.duckdb"
    tables = minimal_raw_tables()
    tables["patients"]["extra_column"] = "ignored"  # extra columns are allowed
    write_raw_tables(raw, tables)
    run_dbt(
        ["build", "--select", "+audit_reconciliation", "+int_patients_accepted", "--indirect-selection", "cautious"],
        raw,
        db,
    )

    as_of = query(db, "select as_of_date, as_of_source from intermediate.int_as_of_date_resolved")
    assert str(as_of.as_of_date[0])[:10] == "2025-06-30"  # the latest event date
    assert as_of.as_of_source[0] == "latest_activity"

    patients = query(db, "select * from intermediate.int_patients_accepted order by patient_id")
    assert patients.zip3.tolist() == ["021", "902"]  # leading zero kept from csv text
    assert patients.location_type.tolist() == ["urban", "rural"]
    assert patients.sex.tolist() == ["F", "M"]
    assert patients.birth_year.tolist() == [1970, 1985]

    reconciliation = query(db, "select * from audit.audit_reconciliation")
    assert (reconciliation.rows_quarantined == 0).all()
    assert (reconciliation.rows_read == reconciliation.rows_accepted).all()

    schemas = set(query(db, "select distinct schema_name from information_schema.schemata").schema_name)
    assert schemas - {"main", "information_schema", "pg_catalog"} <= LAYER_SCHEMAS
    assert {"staging", "intermediate", "audit"} <= schemas
    assert not any(name.startswith("main_") for name in schemas)


def test_configured_as_of_wins_and_marks_later_rows(tmp_path: Path) -> None:
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    db = tmp_path / "wh.duckdb"
    run_dbt(
        ["build", "--select", "+audit_quarantine", "--indirect-selection", "cautious"],
        raw,
        db,
        as_of="2025-04-01",
        dbt_vars={"quarantine_error_share": 1},
    )
    as_of = query(db, "select as_of_date, as_of_source from intermediate.int_as_of_date_resolved")
    assert str(as_of.as_of_date[0])[:10] == "2025-04-01"
    assert as_of.as_of_source[0] == "CAREPULSE_AS_OF"
    late = query(db, "select source_table, record_key from audit.audit_quarantine where rule = 'after_as_of'")
    assert sorted(zip(late.source_table, late.record_key, strict=False)) == [
        ("claims", "K1"),
        ("engagement_events", "E2"),
    ]


def _dirty_rows(small_raw: Path) -> pd.DataFrame:
    """The generator's record of every bad row it injected into the session data."""
    return pd.read_parquet(small_raw.parent / "ground_truth" / "dirty_rows.parquet")


def test_every_injected_bad_row_is_quarantined_with_its_rule(small_raw: Path, small_warehouse: Path) -> None:
    expected = _dirty_rows(small_raw)
    assert len(expected) > 0 and expected.rule.nunique() >= 10
    found = query(small_warehouse, "select source_table, record_key, rule from audit.audit_quarantine")
    # Keys compare like enumerations do (a journey key holds the stage as written in the file).
    key = lambda keys: keys.fillna("").str.lower().str.replace(" ", "")  # noqa: E731
    expected_rows = set(zip(expected.table_name, key(expected.record_key), expected.rule, strict=False))
    found_rows = set(zip(found.source_table, key(found.record_key), found.rule, strict=False))
    missing = expected_rows - found_rows
    assert not missing, f"bad rows not quarantined with the expected rule: {sorted(missing)[:10]}"
    # Nothing clean was quarantined: one quarantined row per injected bad row.
    assert len(found) == len(expected)


def test_counts_reconcile_per_table(small_raw: Path, small_warehouse: Path) -> None:
    expected = _dirty_rows(small_raw).groupby("table_name").size()
    reconciliation = query(small_warehouse, "select * from audit.audit_reconciliation").set_index("source_table")
    assert len(reconciliation) == 6
    assert (reconciliation.rows_read == reconciliation.rows_accepted + reconciliation.rows_quarantined).all()
    for table, rows in reconciliation.iterrows():
        raw_rows = len(pd.read_parquet(small_raw / f"{table}.parquet"))
        assert rows.rows_read == raw_rows
        assert rows.rows_quarantined == expected.get(table, 0)


def test_quarantine_share_gate_fails_the_build_past_the_error_share(
    small_raw: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / small_warehouse.name  # a copy: dbt test writes its artifacts beside the database
    shutil.copy2(small_warehouse, db)
    result = run_dbt(
        ["test", "--select", "audit_reconciliation"],
        small_raw,
        db,
        dbt_vars={"quarantine_error_share": 0.001},
        check=False,
    )
    assert result.returncode != 0
    assert "quarantine_share_within" in result.stdout


# --- privacy ------------------------------------------------------------------------------

SCANNED_SCHEMAS = ("staging", "intermediate", "marts", "ml", "audit")
#: Raw columns holding activity dates: a birth date equal to one of them cannot be told apart
#: from that date, so it is left out of the scan (the test counts how many are scanned).
DATE_COLUMNS = {
    "patients": ["enrolled_at"],
    "engagement_events": ["event_at"],
    "outreach_calls": ["called_at"],
    "care_journey_stages": ["entered_at", "completed_at"],
    "claims": ["claim_start_date", "claim_end_date"],
}
#: What a token of text is: identifiers (names, emails, phones, dates, ZIP codes) are made of
#: these characters, JSON and other text around them are not.
TOKEN = "[A-Za-z0-9@._+-]+"


def raw_identifiers(raw_dir: Path) -> pd.DataFrame:
    """(kind, value) of every direct identifier in the raw patients file (README, Privacy)."""
    patients = pd.read_parquet(raw_dir / "patients.parquet")
    frames = [
        pd.DataFrame({"kind": column, "value": patients[column].dropna().astype(str)})
        for column in ["first_name", "last_name", "email", "phone"]
    ]
    activity_dates = set()
    for table, columns in DATE_COLUMNS.items():
        frame = pd.read_parquet(raw_dir / f"{table}.parquet", columns=columns)
        for column in columns:
            activity_dates |= set(frame[column].dropna().astype(str).str[:10])
    # Only real dates: a dirty row's unparseable birth date ("not-a-date") is no identifier.
    births = pd.to_datetime(patients["birth_date"], format="%Y-%m-%d", errors="coerce").dropna().dt.strftime("%Y-%m-%d")
    frames.append(pd.DataFrame({"kind": "birth_date", "value": births[~births.isin(activity_dates)]}))
    zips = patients["zip_code"].dropna().astype(str)
    frames.append(pd.DataFrame({"kind": "zip_code", "value": zips[zips.str.fullmatch(r"\d{5}")]}))
    identifiers = pd.concat(frames, ignore_index=True).drop_duplicates("value")
    return identifiers[identifiers["value"].str.len() >= 5]


def substring_hits(text: str, identifiers: dict[int, set[str]]) -> list[str]:
    """Identifier values inside text, anywhere (identifiers grouped by length)."""
    return [
        text[i : i + n]
        for n, values in identifiers.items()
        for i in range(len(text) - n + 1)
        if text[i : i + n] in values
    ]


def identifier_tokens(db: Path, identifiers: pd.DataFrame, schemas: tuple[str, ...]) -> dict[str, list[str]]:
    """For every text column of the schemas: the identifier values among its tokens. A token
    is a maximal run of TOKEN characters, so a value is found alone, inside JSON, in a
    sentence or as a key; a ZIP code inside a longer number is not a token (no false hits)."""
    found = {}
    with contextlib.chdir(db.parent):  # staging views read the raw link beside the file
        con = duckdb.connect(str(db), read_only=True)
        try:
            con.register("identifiers", identifiers)
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                f"where table_schema in ({', '.join(repr(s) for s in schemas)}) and data_type = 'VARCHAR'"
            ).fetchall()
            for schema, table, column in columns:
                hits = con.execute(
                    f"""
                    with tokens as (
                        select distinct unnest(regexp_extract_all("{column}", '{TOKEN}')) as token
                        from "{schema}"."{table}"
                    )
                    select distinct identifiers.value from tokens
                    inner join identifiers on tokens.token = identifiers.value
                    """
                ).fetchall()
                found[f"{schema}.{table}.{column}"] = [hit[0] for hit in hits]
        finally:
            con.close()
    return found


def test_no_identifier_value_reaches_the_warehouse(small_raw: Path, small_warehouse: Path) -> None:
    """Scan every text value outside the raw views for the raw identifiers, as tokens of
    any text (JSON raw records included) and, in the quarantine's raw records, as any
    substring; on the dirty session build, so bad patient rows' records are there to scan."""
    identifiers = raw_identifiers(small_raw)
    patients = len(pd.read_parquet(small_raw / "patients.parquet", columns=["patient_id"]))
    counts = identifiers["kind"].value_counts()
    assert counts["email"] >= patients * 0.99 and counts["birth_date"] >= patients * 0.5, counts

    # The scan finds what it looks for: the raw views and staging's own raw records have them.
    control = identifier_tokens(small_warehouse, identifiers, ("main",))
    assert len(control["main.raw_patients.email"]) >= patients * 0.99
    assert len(control["main.raw_patients.zip_code"]) > 0 and len(control["main.raw_patients.birth_date"]) > 0

    found = identifier_tokens(small_warehouse, identifiers, SCANNED_SCHEMAS)
    assert "audit.audit_quarantine.raw_record" in found and len(found) > 100
    leaks = {column: hits[:3] for column, hits in found.items() if hits}
    assert not leaks, f"identifier values found outside the raw files: {leaks}"

    records = query(small_warehouse, "select source_table, raw_record from audit.audit_quarantine")
    assert set(records["source_table"]) == set(DATE_COLUMNS) | {"providers"}
    assert (records["source_table"] == "patients").sum() >= 5 and records["raw_record"].notna().all()
    # ZIP codes as whole digit runs: any longer number (an NPI, an id) holds five digits.
    zips = set(identifiers.loc[identifiers["kind"] == "zip_code", "value"])
    by_length: dict[int, set[str]] = {}
    for value in identifiers.loc[identifiers["kind"] != "zip_code", "value"]:
        by_length.setdefault(len(value), set()).add(value)
    inside = {
        record: hits
        for record in records["raw_record"]
        if (hits := substring_hits(record, by_length) + [run for run in re.findall(r"\d+", record) if run in zips])
    }
    assert not inside, f"identifier values inside quarantined raw records: {list(inside.items())[:3]}"


def test_an_identifier_column_planted_in_a_mart_fails_the_build(tmp_path: Path) -> None:
    """The privacy guard (on-run-end hook assert_no_identifier_columns) runs after every node,
    so a mart that keeps an identifier column fails the build that created it. The old
    singular test had no ref(): it ran before any mart existed and passed here."""
    project = copy_project(tmp_path / "project")
    (project / "models/marts/patients/planted_leak.sql").write_text(
        "{{ config(contract={'enforced': false}) }}\nselect patient_id, email\n"
        "from {{ source('platform', 'patients') }}\n"
    )
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    db = tmp_path / "db" / "wh.duckdb"
    result = run_dbt(["build", "--project-dir", str(project), "--select", "planted_leak"], raw, db, check=False)
    assert "OK created sql table model marts.planted_leak" in result.stdout, result.stdout[-3000:]
    assert result.returncode != 0
    assert "direct identifier column(s) outside staging: marts.planted_leak.email" in result.stdout
