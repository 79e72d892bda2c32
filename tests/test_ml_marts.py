"""The ML step's inputs are contracted marts, declared once (issue 10, points 1 and 5).

Static checks that need no warehouse: the ML step and the report name only marts.* and
ml.* relations, the exposures list exactly what the Python reads, the feature list comes
from the marts' YAML and nowhere else, and the ML SQL takes its business rules from the
seeds and macros the marts use. One check builds the ML marts on tiny data and compares
the built columns with the declared features.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT_DIR, query, run_dbt

from carepulse.report import data as report_data
from carepulse.report import data_studies as report_studies
from ml import features, io

ML_MARTS_YAML = PROJECT_DIR / "models" / "marts" / "ml" / "_ml__models.yml"
RELATION = re.compile(r"\b(staging|intermediate|audit|marts|ml|main)\.([a-z_][a-z0-9_]*)\b")


def _relations_named_in(paths: list[Path]) -> set[str]:
    """schema.table names written in SQL strings of Python files (module paths excluded)."""
    found = set()
    for path in paths:
        for string in re.findall(r'"""(.*?)"""|"([^"\n]*)"', path.read_text(), flags=re.DOTALL):
            text = "".join(string)
            if re.search(r"\b(select|from|join)\b", text) or re.fullmatch(r"[a-z_]+\.[a-z_]+", text.strip()):
                found |= {f"{schema}.{table}" for schema, table in RELATION.findall(text)}
    return found


def _exposure(name: str) -> dict:
    document = yaml.safe_load((PROJECT_DIR / "models" / "exposures.yml").read_text())
    return next(exposure for exposure in document["exposures"] if exposure["name"] == name)


def _exposure_relations(name: str) -> set[str]:
    out = set()
    for dependency in _exposure(name)["depends_on"]:
        if match := re.fullmatch(r"ref\('(\w+)'\)", dependency):
            out.add(f"marts.{match.group(1)}")
        elif match := re.fullmatch(r"source\('ml', '(\w+)'\)", dependency):
            out.add(f"ml.{match.group(1)}")
    return out


def test_ml_and_report_read_only_marts_and_ml_tables() -> None:
    python = sorted((PROJECT_DIR / "ml").glob("*.py")) + sorted((PROJECT_DIR / "carepulse" / "report").glob("*.py"))
    relations = _relations_named_in(python)
    assert {io.FEATURES, io.LABELS, io.CUTOFFS, io.CALL_FEATURES, io.AS_OF} <= relations
    outside = sorted(r for r in relations if not r.startswith(("marts.", "ml.")))
    assert not outside, f"the ML step or the report reads outside marts.* and ml.*: {outside}"


def test_exposures_list_exactly_what_the_python_reads() -> None:
    ml_reads = {
        io.FEATURES,
        io.LABELS,
        io.CUTOFFS,
        io.CALL_FEATURES,
        io.AS_OF,
        io.DROPOUT_FEATURES,
        io.CHAMPION_FEATURES,
    }
    assert _exposure_relations("churn_and_engagement_models") == ml_reads
    report_reads = (
        set(report_data.REQUIRED)
        | set(report_data.ML_RELATIONS)
        | {report_data.IMPACT, report_data.SCENARIOS, report_data.CUTOFFS}
        | set(report_studies.RELATIONS)
    )
    assert _exposure_relations("retention_report") == report_reads


def test_feature_list_is_the_yaml_declaration() -> None:
    document = yaml.safe_load(ML_MARTS_YAML.read_text())
    from ml.champions import CHAMPION_SPEC
    from ml.dropout import DROPOUT_SPEC

    marts = {
        "patient_features_by_cutoff": features.CHURN_SPEC,
        "outreach_call_features": features.ENGAGEMENT_SPEC,
        "journey_dropout_features_by_cutoff": DROPOUT_SPEC,
        "provider_champion_features_by_month": CHAMPION_SPEC,
    }
    for mart, spec in marts.items():
        model = next(m for m in document["models"] if m["name"] == mart)
        declared = [c["name"] for c in model["columns"] if "feature" in (c.get("meta") or {})]
        # the same columns in the declared order: the model's column order
        assert sorted(spec.columns) == sorted(declared)
        assert [c for c in declared if c in spec.categorical] == list(spec.categorical)
        assert [c for c in declared if c in spec.numeric] == list(spec.numeric)
        assert set(spec.log_count) | set(spec.log_days_since) <= set(spec.numeric)
    # ml/features.py does not spell the list out again (it names only the columns its
    # derived features are computed from, such as events_90d or tenure_days)
    source = (PROJECT_DIR / "ml" / "features.py").read_text()
    for column in ("login_events_90d", "claims_180d", "paid_amount_360d", "prior_engaged_same_channel", "plan_type"):
        assert f'"{column}"' not in source, column


@pytest.mark.parametrize(
    ("meta", "rule"),
    [
        ({"feature": "ordinal"}, "meta.feature must be one of"),
        ({"feature": "categorical", "transform": "log_count"}, "meta.transform must be one of"),
        ({"feature": "numeric", "transform": "sqrt"}, "meta.transform must be one of"),
        ({"transform": "log_count"}, "meta.transform without meta.feature"),
    ],
)
def test_a_malformed_declaration_names_file_model_column_and_rule(meta: dict, rule: str) -> None:
    column = {"name": "bad_column", "meta": meta}
    document = {"models": [{"name": "some_mart", "meta": {"ml_model": "churn"}, "columns": [column]}]}
    with pytest.raises(features.FeatureDeclarationError) as error:
        features.parse_feature_spec(document, "churn", "the.yml")
    assert "the.yml" in str(error.value) and "some_mart" in str(error.value) and "bad_column" in str(error.value)
    assert rule in str(error.value)


def test_a_model_without_declared_features_is_an_error() -> None:
    with pytest.raises(features.FeatureDeclarationError, match="no model with meta.ml_model 'churn'"):
        features.parse_feature_spec({"models": [{"name": "x", "columns": [{"name": "a"}]}]}, "churn", "the.yml")


def test_ml_sql_takes_business_rules_from_seeds_and_macros() -> None:
    """No event type, stage, outcome or weekday literal in the ML models: they come from
    seeds raw_value_domains / care_journey_stage_order / outreach_outcome_map and the macros
    engagement_event_types and iso_weekday, like the other marts."""
    literals = re.compile(
        r"event_type\s*=\s*'[a-z]|when\s+'(screening|diagnosis|treatment|follow_up)'|outcome\s*=\s*'[a-z]"
        r"|'20\d\d-\d\d-\d\d'"  # a reference date to count weekdays from
    )
    offenders = []
    models = PROJECT_DIR / "models"
    ml_models = [*(models / "marts" / "ml").rglob("*.sql"), *(models / "intermediate").rglob("*.sql")]
    for path in sorted(ml_models):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if literals.search(line):
                offenders.append(f"{path.relative_to(PROJECT_DIR)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_built_feature_marts_have_the_declared_columns(small_warehouse: Path) -> None:
    churn = query(small_warehouse, f"select * from {io.FEATURES} limit 5")
    calls = query(small_warehouse, f"select * from {io.CALL_FEATURES} limit 5")
    assert set(features.CHURN_SPEC.columns) <= set(churn.columns)
    assert set(features.ENGAGEMENT_SPEC.columns) <= set(calls.columns)


def test_a_feature_window_that_is_not_whole_periods_stops_the_compile(small_raw: Path, tmp_path: Path) -> None:
    """The windows come from var ml_churn_feature_windows; one that the 30-day periods
    cannot represent exactly is refused with a message naming the var and the measure."""
    result = run_dbt(
        ["compile", "--select", "patient_features_by_cutoff"],
        small_raw,
        tmp_path / "vars_check.duckdb",
        dbt_vars={"ml_churn_feature_windows": {"events": {"windows": [45]}}},
        check=False,
    )
    assert result.returncode != 0
    assert "ml_churn_feature_windows: window 45 of events is not a whole number of ml_period_days" in result.stdout
