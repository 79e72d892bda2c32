"""dbt docs: `dbt docs generate` works on a built warehouse and everything a reader of the
docs site or a BI tool sees is described: every mart and its columns, the semantic-layer
models, the ml sources and their columns, semantic models, metrics and exposures. The
analyses compile, and the retention findings run against the warehouse.

`dbt docs generate` runs on a copy of the session warehouse, so its artifacts (manifest,
catalog, compiled analyses) go to a directory of their own and the shared warehouse's
target/ is left as the build wrote it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import query, run_dbt

DESCRIBED_MODEL_DIRS = ("models/marts/", "models/semantic/")
ANALYSES = ("retention_key_findings", "outreach_worklist_top", "model_performance_over_runs")
CORE_METRICS = {
    "patients": "simple",
    "churned_patients": "simple",
    "churn_rate": "ratio",
    "revenue": "simple",
    "engagement_rate": "ratio",
    "provider_revenue": "simple",
    "roi": "ratio",
}


@dataclass(frozen=True)
class Docs:
    db_path: Path
    target: Path
    manifest: dict[str, Any]
    catalog: dict[str, Any]


@pytest.fixture(scope="module")
def docs(small_raw: Path, small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Docs:
    db_path = tmp_path_factory.mktemp("docs") / small_warehouse.name
    shutil.copy2(small_warehouse, db_path)
    run_dbt(["docs", "generate"], small_raw, db_path)
    target = db_path.parent / "target"
    return Docs(
        db_path=db_path,
        target=target,
        manifest=json.loads((target / "manifest.json").read_text()),
        catalog=json.loads((target / "catalog.json").read_text()),
    )


def _described_models(docs: Docs) -> dict[str, dict[str, Any]]:
    return {
        unique_id: node
        for unique_id, node in docs.manifest["nodes"].items()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(DESCRIBED_MODEL_DIRS)
    }


def test_docs_generate_writes_the_site_and_a_catalog_of_the_built_marts(docs: Docs) -> None:
    assert (docs.target / "index.html").exists()
    models = _described_models(docs)
    assert len(models) >= 20
    built = {unique_id for unique_id, node in models.items() if "post_ml" not in node["tags"]}
    missing = sorted(built - set(docs.catalog["nodes"]))
    assert not missing, f"built by `dbt build` but not in the catalog: {missing}"
    assert not docs.catalog.get("errors")


def test_every_mart_and_every_column_is_described(docs: Docs) -> None:
    problems = []
    for unique_id, node in sorted(_described_models(docs).items()):
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        declared = {name.lower(): column for name, column in node["columns"].items()}
        if not declared:
            problems.append(f"{node['name']}: no columns declared")
        for name, column in declared.items():
            if not column["description"].strip():
                problems.append(f"{node['name']}.{name}: no description")
        # every column the built table really has is declared (so described)
        built_columns = docs.catalog["nodes"].get(unique_id, {}).get("columns", {})
        for name in built_columns:
            if name.lower() not in declared:
                problems.append(f"{node['name']}.{name}: in the table, not in the docs")
    assert not problems, "\n".join(problems)


def test_every_ml_source_table_and_column_is_described(docs: Docs) -> None:
    tables = [source for source in docs.manifest["sources"].values() if source["source_name"] == "ml"]
    names = {table["name"] for table in tables}
    assert {"model_runs", "churn_predictions", "engagement_predictions", "feature_importance"} <= names
    problems = []
    for table in sorted(tables, key=lambda table: table["name"]):
        if not table["source_description"].strip():
            problems.append("source ml: no description")
        if not table["description"].strip():
            problems.append(f"ml.{table['name']}: no description")
        for name, column in table["columns"].items():
            if not column["description"].strip():
                problems.append(f"ml.{table['name']}.{name}: no description")
    assert not problems, "\n".join(problems)


def test_exposures_declare_the_report_the_worklist_and_a_dashboard(docs: Docs) -> None:
    exposures = list(docs.manifest["exposures"].values())
    by_type: dict[str, list[dict[str, Any]]] = {}
    for exposure in exposures:
        by_type.setdefault(exposure["type"], []).append(exposure)
        assert exposure["description"].strip(), exposure["name"]
        assert exposure["owner"].get("name") or exposure["owner"].get("email"), exposure["name"]
        assert exposure["depends_on"]["nodes"], exposure["name"]
    assert {"analysis", "application", "dashboard"} <= set(by_type)

    report_inputs = {node for exposure in by_type["analysis"] for node in exposure["depends_on"]["nodes"]}
    assert "model.carepulse.churn_drivers" in report_inputs
    worklist_inputs = {node for exposure in by_type["application"] for node in exposure["depends_on"]["nodes"]}
    assert "model.carepulse.outreach_priority" in worklist_inputs
    dashboard_inputs = {node for exposure in by_type["dashboard"] for node in exposure["depends_on"]["nodes"]}
    assert {f"metric.carepulse.{name}" for name in CORE_METRICS} <= dashboard_inputs


def test_semantic_models_and_metrics_are_described(docs: Docs) -> None:
    semantic_models = docs.manifest["semantic_models"].values()
    assert {model["name"] for model in semantic_models} >= {
        "patients",
        "patient_churn",
        "engagement_events",
        "outreach",
        "claims",
        "segment_roi",
    }
    problems = []
    for model in semantic_models:
        if not (model.get("description") or "").strip():
            problems.append(f"semantic model {model['name']}: no description")
        elements = model["entities"] + model["dimensions"] + model["measures"]
        problems += [
            f"semantic model {model['name']}.{element['name']}: no description"
            for element in elements
            if not (element.get("description") or "").strip()
        ]
    metrics = {metric["name"]: metric for metric in docs.manifest["metrics"].values()}
    for name, metric_type in CORE_METRICS.items():
        assert name in metrics, f"metric {name} missing"
        assert metrics[name]["type"] == metric_type, name
    for metric in metrics.values():
        if not metric["description"].strip() or not metric["label"].strip():
            problems.append(f"metric {metric['name']}: no description or label")
    assert not problems, "\n".join(problems)
    assert docs.manifest["nodes"]["model.carepulse.metricflow_time_spine"]["time_spine"]


def test_analyses_compile_and_the_retention_findings_run(docs: Docs) -> None:
    compiled = {}
    for name in ANALYSES:
        node = docs.manifest["nodes"][f"analysis.carepulse.{name}"]
        assert node["description"].strip(), f"analysis {name}: no description"
        path = docs.target / "compiled" / "carepulse" / "analyses" / f"{name}.sql"
        assert path.exists(), f"{name} did not compile"
        compiled[name] = path.read_text()
        assert "{{" not in compiled[name] and "ref(" not in compiled[name], name

    findings = query(docs.db_path, compiled["retention_key_findings"]).set_index("finding")
    assert list(findings.index) == ["highest_churn_condition", "rural_vs_urban_gap", "word_of_mouth_vs_doctor_gap"]
    drivers = query(docs.db_path, "select * from marts.churn_drivers").set_index(["dimension", "dimension_value"])
    conditions = drivers.loc["primary_condition"]
    highest = findings.loc["highest_churn_condition"]
    assert highest["group_value"] == conditions["churn_rate"].idxmax()
    assert abs(highest["churn_rate"] - conditions["churn_rate"].max()) < 1e-12
    for finding, dimension, a, b in [
        ("rural_vs_urban_gap", "location_type", "rural", "urban"),
        ("word_of_mouth_vs_doctor_gap", "referral_source", "word_of_mouth", "doctor"),
    ]:
        gap = (drivers.loc[(dimension, a), "churn_rate"] - drivers.loc[(dimension, b), "churn_rate"]) * 100
        assert abs(findings.loc[finding, "gap_points"] - gap) < 1e-9, finding
