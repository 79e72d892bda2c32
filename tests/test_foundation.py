"""The foundation end to end: raw contract errors, quarantine, reconciliation, privacy, as-of."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

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
            {"provider_id": [VALID_NPI], "provider_name": ["Provider 1 Clinic"], "specialty": ["cardiology"],
             "state": ["MA"], "city": ["Boston"]}
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
    run_dbt(["build", "--select", "+audit_reconciliation", "+int_patients_accepted", "--indirect-selection", "cautious"],
            raw, db)

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
    run_dbt(["build", "--select", "+audit_quarantine", "--indirect-selection", "cautious"], raw, db,
            as_of="2025-04-01", dbt_vars={"quarantine_error_share": 1})
    as_of = query(db, "select as_of_date, as_of_source from intermediate.int_as_of_date_resolved")
    assert str(as_of.as_of_date[0])[:10] == "2025-04-01"
    assert as_of.as_of_source[0] == "CAREPULSE_AS_OF"
    late = query(db, "select source_table, record_key from audit.audit_quarantine where rule = 'after_as_of'")
    assert sorted(zip(late.source_table, late.record_key)) == [("claims", "K1"), ("engagement_events", "E2")]


@pytest.fixture(scope="module")
def dirty_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Generated csv data with injected bad rows of every kind, built with dbt."""
    from carepulse.generate import generate

    base = tmp_path_factory.mktemp("dirty")
    generate(scale=0.01, seed=11, out=base / "raw", fmt="csv", dirty_rate=0.03)
    db = base / "wh.duckdb"
    selection = ["--select", "+audit_quarantine", "+audit_reconciliation", "--indirect-selection", "cautious"]
    # 3 bad rows of 53 providers pass the default 5% gate at this tiny scale.
    run_dbt(["build", *selection], base / "raw", db, dbt_vars={"quarantine_error_share": 0.1})
    return base, db


def test_every_injected_bad_row_is_quarantined_with_its_rule(dirty_build: tuple[Path, Path]) -> None:
    base, db = dirty_build
    expected = pd.read_parquet(base / "ground_truth" / "dirty_rows.parquet")
    assert len(expected) > 0 and expected.rule.nunique() >= 10
    found = query(db, "select source_table, record_key, rule from audit.audit_quarantine")
    expected_rows = set(zip(expected.table_name, expected.record_key.fillna(""), expected.rule))
    found_rows = set(zip(found.source_table, found.record_key.fillna(""), found.rule))
    missing = expected_rows - found_rows
    assert not missing, f"bad rows not quarantined with the expected rule: {sorted(missing)[:10]}"
    # Nothing clean was quarantined: one quarantined row per injected bad row.
    assert len(found) == len(expected)


def test_counts_reconcile_per_table(dirty_build: tuple[Path, Path]) -> None:
    base, db = dirty_build
    expected = pd.read_parquet(base / "ground_truth" / "dirty_rows.parquet").groupby("table_name").size()
    reconciliation = query(db, "select * from audit.audit_reconciliation").set_index("source_table")
    assert (reconciliation.rows_read == reconciliation.rows_accepted + reconciliation.rows_quarantined).all()
    for table, rows in reconciliation.iterrows():
        raw_rows = len(pd.read_csv(base / "raw" / f"{table}.csv", dtype=str))
        assert rows.rows_read == raw_rows
        assert rows.rows_quarantined == expected.get(table, 0)


def test_quarantine_share_gate_fails_the_build_past_the_error_share(dirty_build: tuple[Path, Path]) -> None:
    base, db = dirty_build
    result = run_dbt(["test", "--select", "audit_reconciliation"], base / "raw", db,
                     dbt_vars={"quarantine_error_share": 0.001}, check=False)
    assert result.returncode != 0
    assert "quarantine_share_within" in result.stdout


def test_no_identifier_value_reaches_the_warehouse(small_raw: Path, small_warehouse: Path) -> None:
    """Scan every text column outside the raw views for the raw identifiers' values."""
    patients = pd.read_parquet(small_raw / "patients.parquet")
    identifiers = set()
    for column in ["first_name", "last_name", "email", "phone", "zip_code"]:
        identifiers |= set(patients[column].dropna().astype(str))
    identifiers |= set(pd.to_datetime(patients["birth_date"]).dt.strftime("%Y-%m-%d"))
    columns = query(
        small_warehouse,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema <> 'main' and table_schema in ('staging', 'intermediate', 'marts', 'ml', 'audit') "
        "and data_type = 'VARCHAR'",
    )
    leaks = []
    for schema, table, column in columns.itertuples(index=False):
        values = query(small_warehouse, f'select distinct "{column}" as v from "{schema}"."{table}"').v
        text = values.dropna().astype(str)
        hits = [value for value in text if value in identifiers or "@" in value]
        if hits:
            leaks.append((schema, table, column, hits[:3]))
    assert not leaks, f"identifier values found outside the raw files: {leaks}"


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
