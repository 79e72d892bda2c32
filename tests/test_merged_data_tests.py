"""Issue 12 (points 1 and 4): a model's value rules are one `column_rules` data test.

Each model's per-column rules (not_null, unique, accepted_range, accepted_values,
in_value_domain, relationships, expressions, row count) run as one dbt test node and one scan
instead of a node and a scan per column and rule. A broken value must still fail the build and
say which model, column and rule: this breaks values of built tables (a copy of the session
warehouse), runs `dbt test --store-failures` on those models' merged tests and reads the
failing rows dbt stored. Static checks: no yml of the project still declares a per-column test
that the merged test replaces, and every model with data tests has one merged test at most.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import yaml
from conftest import PROJECT_DIR, query, run_dbt

#: The generic tests column_rules stands for; a model declares them through it.
MERGED = {
    "not_null",
    "not_null_columns",
    "unique",
    "unique_combination_of_columns",
    "accepted_range",
    "accepted_values",
    "in_value_domain",
    "relationships",
    "expression_is_true",
    "row_count_equals",
}
#: Left as they were (their owners rework them): the ML marts' properties and the ML sources.
NOT_CONVERTED = {
    "models/marts/ml/_ml__models.yml",
    "models/intermediate/ml/_ml__models.yml",
    "models/marts/outreach/_ml__sources.yml",
}

#: (model, SQL that breaks one value or key of the built table, column, rule prefix, failing rows, example)
BREAKS = [
    (
        "dim_patients",
        "update marts.dim_patients set age = 200 where patient_id = (select min(patient_id) from marts.dim_patients)",
        "age",
        "accepted_range min_value 0, max_value 130",
        1,
        "200",
    ),
    (
        "dim_patients",
        "update marts.dim_patients set sex = 'X' where patient_id = (select max(patient_id) from marts.dim_patients)",
        "sex",
        "accepted_values",
        1,
        "X",
    ),
    (
        "dim_patients",
        "update marts.dim_patients set age_band = 'no such band'"
        " where patient_id = (select max(patient_id) from marts.dim_patients)",
        "age_band",
        "relationships patient_age_bands.age_band",
        1,
        "no such band",
    ),
    (
        "dim_patients",
        "insert into marts.dim_patients select * from marts.dim_patients"
        " where patient_id = (select patient_id from marts.dim_patients order by patient_id limit 1 offset 1)",
        "patient_id",
        "unique",
        1,
        None,
    ),
    (
        "patient_churn",
        "update marts.patient_churn set has_activity = not has_activity"
        " where patient_id in (select patient_id from marts.patient_churn order by patient_id limit 2)",
        None,
        "expression_is_true has_activity = (last_active_date is not null)",
        2,
        "first patient",
    ),
    (
        "patient_churn",
        "update marts.patient_churn set churn_status = null"
        " where patient_id = (select max(patient_id) from marts.patient_churn)",
        "churn_status",
        "not_null",
        1,
        "last patient",
    ),
    (
        "int_patients_accepted",
        # a view over the audit table: break the accepted row there
        "update audit.audit_patients_checked set referral_source = 'carrier pigeon'"
        " where patient_id = (select min(patient_id) from intermediate.int_patients_accepted)",
        "referral_source",
        "in_value_domain patients",
        1,
        "carrier pigeon",
    ),
    (
        "int_as_of_date_resolved",
        "insert into intermediate.int_as_of_date_resolved select * from intermediate.int_as_of_date_resolved",
        None,
        "row_count_equals 1",
        1,
        "2",
    ),
    (
        "int_patient_days_aggregated",
        "insert into intermediate.int_patient_days_aggregated select * from intermediate.int_patient_days_aggregated"
        " where patient_id = (select min(patient_id) from intermediate.int_patient_days_aggregated)",
        "patient_id, activity_date",
        "unique_combination_of_columns",
        None,
        None,
    ),
]


def _properties() -> list[tuple[Path, dict]]:
    out = []
    for folder in ("models", "seeds"):
        for path in sorted((PROJECT_DIR / folder).rglob("*.yml")):
            relative = path.relative_to(PROJECT_DIR).as_posix()
            if relative not in NOT_CONVERTED:
                out.append((path, yaml.safe_load(path.read_text()) or {}))
    return out


def _test_name(test: object) -> str:
    return test if isinstance(test, str) else next(iter(test))


def test_no_per_column_test_that_column_rules_replaces() -> None:
    """Every model's and seed's merged rules are in its column_rules test (one per model)."""
    problems = []
    for path, properties in _properties():
        for node in (properties.get("models") or []) + (properties.get("seeds") or []):
            for column in node.get("columns") or []:
                for test in column.get("data_tests") or column.get("tests") or []:
                    problems.append(f"{path.name}: {node['name']}.{column['name']}: {_test_name(test)}")
            tests = [_test_name(test) for test in node.get("data_tests") or []]
            if tests.count("column_rules") > 1:
                problems.append(f"{path.name}: {node['name']} has {tests.count('column_rules')} column_rules tests")
            for test in node.get("data_tests") or []:
                body = {} if isinstance(test, str) else next(iter(test.values())) or {}
                severity = str((body.get("config") or {}).get("severity", "error")).lower()
                if _test_name(test) in MERGED and severity == "error":
                    problems.append(f"{path.name}: {node['name']}: {_test_name(test)} outside column_rules")
    assert not problems, "\n".join(problems)


def test_a_broken_value_fails_the_merged_test_naming_column_and_rule(
    small_raw: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / small_warehouse.name
    shutil.copy2(small_warehouse, db)
    first_patient = query(db, "select min(patient_id) as id from marts.patient_churn")["id"][0]
    last_patient = query(db, "select max(patient_id) as id from marts.patient_churn")["id"][0]
    models = sorted({model for model, *_ in BREAKS})
    tests = [f"column_rules_{model}" for model in models]

    clean = run_dbt(["test", "--select", *tests], small_raw, db, check=False)
    assert clean.returncode == 0, f"the merged tests fail on the unbroken warehouse:\n{clean.stdout[-4000:]}"
    for test in tests:
        assert f"PASS {test} " in clean.stdout, clean.stdout[-4000:]

    con = duckdb.connect(str(db))
    try:
        for _model, sql, *_ in BREAKS:
            con.execute(sql)
    finally:
        con.close()
    broken = run_dbt(["test", "--select", *tests, "--store-failures"], small_raw, db, check=False)
    assert broken.returncode == 1, broken.stdout[-4000:]
    for model in models:
        # dbt's line for the test: FAIL <failing rows> column_rules_<model>, one row per broken rule
        failing_rules = sum(1 for broken_model, *_ in BREAKS if broken_model == model)
        assert f"FAIL {failing_rules} column_rules_{model} " in broken.stdout, broken.stdout[-4000:]
    assert f"ERROR={len(tests)} " in broken.stdout, broken.stdout[-2000:]  # dbt counts failed tests as errors

    stored = {}
    for model in models:
        frame = query(db, f"select * from dbt_test__audit.column_rules_{model}")
        # column_name is null (NaN here) for rules of whole rows: expressions, row_count
        stored[model] = {
            (row.column_name if isinstance(row.column_name, str) else None, row.rule): row for row in frame.itertuples()
        }
    expected_examples = {"first patient": str(first_patient), "last patient": str(last_patient)}
    for model, _sql, column, rule, failing, example in BREAKS:
        matches = [row for (name, label), row in stored[model].items() if name == column and label.startswith(rule)]
        assert len(matches) == 1, f"{model}: no failing row for {column} / {rule}; stored: {list(stored[model])}"
        row = matches[0]
        if failing is not None:
            assert row.failing_rows == failing, (model, column, rule, row)
        else:
            assert row.failing_rows > 0, (model, column, rule, row)
        if example is not None:
            assert row.example_value == expected_examples.get(example, example), (model, column, rule, row)
    # nothing else of these models was reported: the merged rules name only what was broken
    reported = {(model, name, label) for model, rows in stored.items() for name, label in rows}
    assert len(reported) == len(BREAKS), sorted(reported, key=str)
