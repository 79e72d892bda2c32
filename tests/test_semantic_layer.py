"""The semantic layer: `mf query` (MetricFlow) answers with the marts' own figures.

Runs the real `mf` CLI (the click command the `mf` script calls; all queries in one
subprocess) against the session warehouse (small_warehouse), from the project root, with
DBT_PROFILES_DIR at the project root and CAREPULSE_DB / CAREPULSE_RAW_DIR at the test
files, and compares its CSV output with the marts.

Where mf finds the semantic manifest: dbt-metricflow 0.15 reads
`<dbt project dir>/target/semantic_manifest.json` with `target` hard-coded (it ignores
`--target-path` and DBT_TARGET_PATH). The project's own target/ is shared by everyone
working in the tree, and conftest's run_dbt writes each warehouse's artifacts to
`<db dir>/target` instead. So instead of serialising on the shared target/ with a lock,
each test run gets a private "mf project" directory: a link to the real dbt_project.yml
plus target/semantic_manifest.json from the dbt run that built the warehouse, and mf is
pointed at it with DBT_PROJECT_DIR. Nothing is written to the project tree, parallel runs
cannot see each other's manifest, and the manifest always matches the warehouse queried.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PROJECT_DIR, query, run_dbt

TOLERANCE = 1e-9
#: The mf queries of this file, (metrics, group-by): one mf start-up each, so each asks
#: for every metric its grouping can answer. Together they ask for every metric.
CHURN_BY_CONDITION = (
    [
        "churn_rate",
        "patients",
        "churned_patients",
        "revenue",
        "engagement_events",
        "active_patients",
        "revenue_per_active_patient",
    ],
    ["patient__primary_condition"],
)
ACTIVITY_BY_MONTH = (
    ["revenue", "engagement_events", "active_patients", "revenue_per_active_patient"],
    ["metric_time__month"],
)
OUTREACH_BY_CELL = (
    ["engagement_rate", "outreach_attempts", "outreach_engaged"],
    [f"outreach_call__{key}" for key in ("channel", "program", "hour_of_day", "iso_weekday")],
)
OUTREACH_BY_CHANNEL_LOCATION_QUARTER = (
    ["reach_rate", "outreach_reached", "engagement_rate", "outreach_attempts"],
    ["outreach_call__channel", "patient__location_type", "metric_time__quarter"],
)
PROVIDER_BY_SEGMENT = (["provider_revenue", "claims"], ["provider__segment"])
ROI_BY_SEGMENT = (["roi", "segment_revenue", "investment"], ["provider_segment"])
QUERIES = {
    "churn_by_condition": CHURN_BY_CONDITION,
    "activity_by_month": ACTIVITY_BY_MONTH,
    "outreach_by_cell": OUTREACH_BY_CELL,
    "outreach_by_channel_location_quarter": OUTREACH_BY_CHANNEL_LOCATION_QUARTER,
    "provider_by_segment": PROVIDER_BY_SEGMENT,
    "roi_by_segment": ROI_BY_SEGMENT,
}
#: Runs the `mf` command (the click group the `mf` script calls) once per query, in one
#: process: importing MetricFlow and dbt is about 7 s of CPU, the query itself well under one.
MF_QUERIES = textwrap.dedent(
    """
    import json, sys
    from dbt_metricflow.cli.main import cli
    for args in json.loads(sys.argv[1]):
        code = cli.main(args=args, prog_name="mf", standalone_mode=False)
        if code:
            sys.exit(f"mf {' '.join(args)} exited with {code}")
    """
)


@pytest.fixture(scope="module")
def mf_env(small_raw: Path, small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for `mf`: the session warehouse and a private project dir holding its manifest."""
    manifest = small_warehouse.parent / "target" / "semantic_manifest.json"
    if not manifest.exists():  # the build wrote it; parse again only if it is gone
        run_dbt(["parse"], small_raw, small_warehouse)
    mf_project = tmp_path_factory.mktemp("mf_project")
    (mf_project / "dbt_project.yml").symlink_to(PROJECT_DIR / "dbt_project.yml")
    (mf_project / "target").mkdir()
    shutil.copy2(manifest, mf_project / "target" / "semantic_manifest.json")
    env = dict(os.environ)
    env.pop("CAREPULSE_AS_OF", None)
    env.update(
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        DBT_PROJECT_DIR=str(mf_project),
        CAREPULSE_DB=str(small_warehouse),
        CAREPULSE_RAW_DIR=str(small_raw),
        CAREPULSE_THREADS="1",
    )
    return env


@pytest.fixture(scope="module")
def mf_answers(mf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Every query of QUERIES as `mf query ... --csv out --quiet` from the project root, read
    back per name (one process for all: see MF_QUERIES)."""
    out = tmp_path_factory.mktemp("mf_answers")
    commands = []
    for name, (metrics, group_by) in QUERIES.items():
        command = ["query", "--metrics", ",".join(metrics), "--csv", str(out / f"{name}.csv"), "--quiet"]
        commands.append(command + (["--group-by", ",".join(group_by)] if group_by else []))
    result = subprocess.run(
        [sys.executable, "-c", MF_QUERIES, json.dumps(commands)],
        cwd=PROJECT_DIR,
        env=mf_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    missing = [name for name in QUERIES if not (out / f"{name}.csv").exists()]
    assert result.returncode == 0 and not missing, (
        f"mf query failed ({missing} not written):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return {name: pd.read_csv(out / f"{name}.csv") for name in QUERIES}


def test_every_metric_of_the_semantic_layer_is_queried() -> None:
    defined = set()
    for path in (PROJECT_DIR / "models" / "semantic").glob("*.yml"):
        defined |= {metric["name"] for metric in (yaml.safe_load(path.read_text()) or {}).get("metrics", [])}
    queried = {metric for metrics, _ in QUERIES.values() for metric in metrics}
    assert len(defined) >= 14
    assert defined <= queried, f"metrics no test queries: {sorted(defined - queried)}"
    assert any(group.startswith("metric_time__") for _, groups in QUERIES.values() for group in groups)


def test_churn_rate_by_condition_matches_churn_drivers(
    mf_answers: dict[str, pd.DataFrame], small_warehouse: Path
) -> None:
    got = mf_answers["churn_by_condition"].set_index("patient__primary_condition").sort_index()

    drivers = (
        query(
            small_warehouse,
            "select dimension_value, churn_rate, patients, churned_patients from marts.churn_drivers "
            "where dimension = 'primary_condition'",
        )
        .set_index("dimension_value")
        .sort_index()
    )
    assert len(drivers) >= 2
    assert list(got.index) == list(drivers.index)
    assert np.allclose(got["churn_rate"], drivers["churn_rate"], rtol=0, atol=TOLERANCE)
    assert (got["patients"] == drivers["patients"]).all()
    assert (got["churned_patients"] == drivers["churned_patients"]).all()

    # revenue and events reach the patient's condition through the patient entity
    events = (
        query(
            small_warehouse,
            "select coalesce(patients.primary_condition, 'unknown') as condition, "
            "sum(events.revenue_usd) as revenue, count(*) as engagement_events, "
            "count(distinct events.patient_id) as active_patients "
            "from marts.fct_engagement_events as events "
            "inner join marts.dim_patients as patients on events.patient_id = patients.patient_id group by 1",
        )
        .set_index("condition")
        .reindex(got.index)
    )
    assert np.allclose(got["revenue"], events["revenue"].astype(float), rtol=0, atol=0.005)
    assert (got["engagement_events"] == events["engagement_events"]).all()
    assert (got["active_patients"] == events["active_patients"]).all()
    per_patient = events["revenue"].astype(float) / events["active_patients"]
    assert np.allclose(got["revenue_per_active_patient"], per_patient, rtol=1e-9, atol=0)


def test_activity_by_month_matches_patient_activity_monthly(
    mf_answers: dict[str, pd.DataFrame], small_warehouse: Path
) -> None:
    """A time grain: events, revenue and active patients per calendar month."""
    got = mf_answers["activity_by_month"]
    got["month"] = pd.to_datetime(got["metric_time__month"]).dt.to_period("M")
    got = got.set_index("month").sort_index()
    monthly = query(
        small_warehouse,
        "select activity_month, sum(events) as events, sum(revenue_usd) as revenue, "
        "count(*) filter (where is_active) as active_patients "
        "from marts.patient_activity_monthly group by 1 having sum(events) > 0",
    )
    monthly["month"] = pd.to_datetime(monthly["activity_month"]).dt.to_period("M")
    monthly = monthly.set_index("month").sort_index()
    assert len(monthly) >= 12
    assert list(got.index) == list(monthly.index)
    assert (got["engagement_events"] == monthly["events"]).all()
    assert (got["active_patients"] == monthly["active_patients"]).all()
    assert np.allclose(got["revenue"], monthly["revenue"].astype(float), rtol=0, atol=0.005)
    assert np.allclose(
        got["revenue_per_active_patient"],
        monthly["revenue"].astype(float) / monthly["active_patients"],
        rtol=1e-9,
        atol=0,
    )


def test_reach_rate_by_channel_location_and_quarter_matches_the_call_fact(
    mf_answers: dict[str, pd.DataFrame], small_warehouse: Path
) -> None:
    """Cross-entity (a call attribute with a patient attribute) at a quarter grain."""
    keys = ["channel", "location_type", "quarter"]
    got = mf_answers["outreach_by_channel_location_quarter"].rename(
        columns={"outreach_call__channel": "channel", "patient__location_type": "location_type"}
    )
    got["quarter"] = pd.to_datetime(got["metric_time__quarter"]).dt.to_period("Q")
    got = got.set_index(keys).sort_index()
    calls = query(
        small_warehouse,
        "select calls.channel, coalesce(patients.location_type, 'unknown') as location_type, "
        "date_trunc('quarter', calls.called_date) as quarter_start, count(*) as attempts, "
        "count(*) filter (where calls.outcome in ('engaged', 'declined')) as reached, "
        "count(*) filter (where calls.outcome = 'engaged') as engaged "
        "from marts.fct_outreach_calls as calls "
        "inner join marts.dim_patients as patients on calls.patient_id = patients.patient_id group by all",
    )
    calls["quarter"] = pd.to_datetime(calls["quarter_start"]).dt.to_period("Q")
    calls = calls.set_index(keys).sort_index()
    assert len(calls) > 10 and calls.index.get_level_values("location_type").nunique() >= 3
    assert list(got.index) == list(calls.index)
    assert (got["outreach_attempts"] == calls["attempts"]).all()
    assert (got["outreach_reached"] == calls["reached"]).all()
    assert np.allclose(got["reach_rate"], calls["reached"] / calls["attempts"], rtol=0, atol=TOLERANCE)
    assert np.allclose(got["engagement_rate"], calls["engaged"] / calls["attempts"], rtol=0, atol=TOLERANCE)


def test_engagement_rate_matches_outreach_performance(
    mf_answers: dict[str, pd.DataFrame], small_warehouse: Path
) -> None:
    keys = ["channel", "program", "hour_of_day", "iso_weekday"]
    got = (
        mf_answers["outreach_by_cell"]
        .rename(columns=lambda name: name.removeprefix("outreach_call__"))
        .set_index(keys)
        .sort_index()
    )
    mart = query(small_warehouse, "select * from marts.outreach_performance").set_index(keys).sort_index()
    assert len(mart) > 10
    assert list(got.index) == list(mart.index)
    assert (got["outreach_attempts"] == mart["attempts"]).all()
    assert (got["outreach_engaged"] == mart["engaged"]).all()
    assert np.allclose(got["engagement_rate"], mart["engagement_rate"], rtol=0, atol=TOLERANCE)


def test_provider_revenue_and_roi_match_segment_roi(mf_answers: dict[str, pd.DataFrame], small_warehouse: Path) -> None:
    segment_roi = query(small_warehouse, "select * from marts.segment_roi").set_index("segment").sort_index()

    revenue = mf_answers["provider_by_segment"].set_index("provider__segment").sort_index()
    with_providers = segment_roi[segment_roi["providers"] > 0]
    assert list(revenue.index) == list(with_providers.index)
    assert np.allclose(revenue["provider_revenue"], with_providers["total_revenue"].astype(float), rtol=0, atol=0.005)
    assert (revenue["claims"] == with_providers["claim_count"]).all()

    roi = mf_answers["roi_by_segment"].set_index("provider_segment").sort_index()
    assert list(roi.index) == list(segment_roi.index)
    invested = segment_roi["investment"].astype(float) > 0
    assert np.allclose(roi.loc[invested, "roi"], segment_roi.loc[invested, "roi"], rtol=0, atol=TOLERANCE)
    assert roi.loc[~invested, "roi"].isna().all()
