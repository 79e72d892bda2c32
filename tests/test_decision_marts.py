"""Decision marts (issue 16, points 1-4): executive KPIs, intervention scenarios, funnel
what-if, visit-plan what-if and provider revenue concentration.

Every mart is read from the shared session builds (conftest: the dbt-only warehouse and
its copy after the ML step and the post-ML models) and compared with pandas computations
on the marts' inputs and the seed CSVs, written here independently of the SQL (loops
where the SQL uses window products, row scans where it uses running maxima). The funnel
var is exercised with one extra `dbt run` of the one model on a copy, and a bad var must
stop it with a message naming the var.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_DIR, query, run_dbt

SEEDS = PROJECT_DIR / "seeds"
CHURN_DAYS = 90  # var churn_inactivity_days
RFM_DAYS = 365  # var rfm_window_days
MONTH_DAYS = 30  # var ml_period_days
KPI_WINDOW_DAYS = 30  # var executive_kpis_window_days
COST_PER_VISIT = 200.0  # var cost_per_visit


def _close(actual: float, expected: float, rel: float = 1e-9) -> bool:
    return actual == pytest.approx(expected, rel=rel, abs=1e-6)


# --- 1. executive_kpis --------------------------------------------------------------------


def _expected_kpis(db: Path) -> pd.DataFrame:
    """Month rows and the as-of row from the patient, event and call marts, in pandas."""
    as_of = pd.Timestamp(query(db, "select as_of_date from marts.as_of_date").iloc[0, 0])
    patients = query(db, "select patient_id, enrolled_date from marts.dim_patients")
    events = query(db, "select patient_id, event_date, revenue_usd from marts.fct_engagement_events")
    calls = query(db, "select called_date, is_engaged from marts.fct_outreach_calls")
    patients["enrolled_date"] = pd.to_datetime(patients["enrolled_date"])
    events["event_date"] = pd.to_datetime(events["event_date"])
    calls["called_date"] = pd.to_datetime(calls["called_date"])
    first_event = events.groupby("patient_id")["event_date"].min()
    patients["first_month"] = (
        patients["patient_id"]
        .map(first_event)
        .fillna(patients["enrolled_date"])
        .combine(patients["enrolled_date"], min)
        .dt.to_period("M")
    )
    rows = []
    for month in pd.period_range(patients["first_month"].min(), as_of.to_period("M"), freq="M"):
        end = min(month.end_time.normalize(), as_of)
        on_books = patients[patients["first_month"] <= month]
        past = events[(events["event_date"] <= end) & events["patient_id"].isin(on_books["patient_id"])]
        last = on_books["patient_id"].map(past.groupby("patient_id")["event_date"].max())
        since = last.fillna(on_books["enrolled_date"])
        in_month = events[events["event_date"].dt.to_period("M") == month]
        month_calls = calls[calls["called_date"].dt.to_period("M") == month]
        rows.append(
            {
                "period_type": "month",
                "period_start": month.start_time,
                "period_end": end,
                "patients": len(on_books),
                "active_patients": in_month["patient_id"].nunique(),
                "churned_patients": int(((end - since).dt.days > CHURN_DAYS).sum()),
                "revenue_usd": float(in_month["revenue_usd"].sum()),
                "outreach_calls": len(month_calls),
                "outreach_engaged": int(month_calls["is_engaged"].sum()),
            }
        )
    start = as_of - pd.Timedelta(days=KPI_WINDOW_DAYS - 1)
    window = events[(events["event_date"] >= start) & (events["event_date"] <= as_of)]
    window_calls = calls[(calls["called_date"] >= start) & (calls["called_date"] <= as_of)]
    last = patients["patient_id"].map(events.groupby("patient_id")["event_date"].max())
    since = last.fillna(patients["enrolled_date"])
    rows.append(
        {
            "period_type": "as_of",
            "period_start": start,
            "period_end": as_of,
            "patients": len(patients),
            "active_patients": window["patient_id"].nunique(),
            "churned_patients": int(((as_of - since).dt.days > CHURN_DAYS).sum()),
            "revenue_usd": float(window["revenue_usd"].sum()),
            "outreach_calls": len(window_calls),
            "outreach_engaged": int(window_calls["is_engaged"].sum()),
        }
    )
    return pd.DataFrame(rows)


def test_executive_kpis_equal_an_independent_count_per_month_and_at_the_as_of_date(small_warehouse: Path) -> None:
    kpis = query(small_warehouse, "select * from marts.executive_kpis order by period_type desc, period_start")
    expected = _expected_kpis(small_warehouse)
    assert len(kpis) == len(expected) and (kpis["period_type"] == "as_of").sum() == 1
    merged = expected.merge(
        kpis.assign(period_start=pd.to_datetime(kpis["period_start"]), period_end=pd.to_datetime(kpis["period_end"])),
        on=["period_type", "period_start"],
        suffixes=("_want", ""),
        validate="one_to_one",
    )
    assert len(merged) == len(expected)
    assert (merged["period_end"] == merged["period_end_want"]).all()
    for column in ("patients", "active_patients", "churned_patients", "outreach_calls", "outreach_engaged"):
        assert (merged[column] == merged[f"{column}_want"]).all(), column
    assert np.allclose(merged["revenue_usd"].astype(float), merged["revenue_usd_want"], atol=0.01)
    assert np.allclose(merged["churn_rate"], merged["churned_patients_want"] / merged["patients_want"])
    rate = merged["outreach_engaged_want"] / merged["outreach_calls_want"].where(merged["outreach_calls_want"] > 0)
    assert np.allclose(merged["outreach_engagement_rate"], rate, equal_nan=True)
    # the as-of row is patient_churn, and carries the mean engagement score; months leave it null
    as_of = kpis[kpis["period_type"] == "as_of"].iloc[0]
    churn = query(small_warehouse, "select count(*) as n, sum(cast(is_churned as int)) as c from marts.patient_churn")
    assert (as_of["patients"], as_of["churned_patients"]) == (churn["n"][0], churn["c"][0])
    score = query(small_warehouse, "select avg(engagement_score) from marts.patient_engagement_score").iloc[0, 0]
    assert _close(as_of["avg_engagement_score"], score)
    assert kpis.loc[kpis["period_type"] == "month", "avg_engagement_score"].isna().all()
    # the session data has history: churn actually moves between months
    assert kpis.loc[kpis["period_type"] == "month", "churn_rate"].nunique() > 3


def test_report_kpi_figure_reads_executive_kpis(small_warehouse: Path) -> None:
    from carepulse.report import data as report_data

    data = report_data.load(small_warehouse)
    kpis = query(
        small_warehouse, "select * from marts.executive_kpis where period_type = 'month' order by period_start"
    )
    assert list(data.executive_kpis["active_patients"]) == list(kpis["active_patients"])
    assert np.allclose(data.executive_kpis["churn_rate"], kpis["churn_rate"])


# --- 2. intervention_scenarios ---------------------------------------------------------------


def _expected_scenarios(db: Path) -> pd.DataFrame:
    worklist = query(
        db,
        "select patient_id, priority_rank, churn_probability, churn_risk_band, engage_probability, patient_value "
        "from marts.outreach_priority",
    ).sort_values("priority_rank")
    seed = pd.read_csv(SEEDS / "decisions" / "intervention_scenario_assumptions.csv")
    # a saved patient's revenue: patient_value's recent monthly revenue, else the RFM window's
    values = query(db, "select patient_id, monthly_revenue from marts.patient_value").set_index("patient_id")
    monthly = worklist["patient_id"].map(values["monthly_revenue"])
    rows = []
    for plan in seed.itertuples():
        p_h = 1 - (1 - worklist["churn_probability"]) ** (plan.horizon_days / CHURN_DAYS)
        eligible = worklist["churn_risk_band"].isin(plan.target_risk_bands.split("|"))
        targeted = eligible.copy()
        if not pd.isna(plan.capacity):
            targeted &= eligible.cumsum() <= plan.capacity  # worklist order, eligible patients only
        save = p_h * plan.save_rate * (worklist["engage_probability"] if plan.requires_engagement else 1.0)
        recent = worklist["patient_value"] * plan.horizon_days / RFM_DAYS
        value = (monthly * plan.horizon_days / MONTH_DAYS).fillna(recent)
        retained = float((save * value)[targeted].sum())
        cost = int(targeted.sum()) * plan.contact_cost
        rows.append(
            {
                "scenario": plan.scenario,
                "population_patients": len(worklist),
                "patients_targeted": int(targeted.sum()),
                "expected_churners": float(p_h.sum()),
                "churners_avoided": float(save[targeted].sum()),
                "revenue_retained": retained,
                "plan_cost": cost,
                "net_value": retained - cost,
            }
        )
    return pd.DataFrame(rows).set_index("scenario")


def test_intervention_scenarios_equal_an_independent_projection(ml_session_warehouse: Path) -> None:
    db = ml_session_warehouse
    got = query(db, "select * from marts.intervention_scenarios").set_index("scenario")
    want = _expected_scenarios(db)
    assert sorted(got.index) == sorted(want.index)
    for scenario, row in want.iterrows():
        for column, value in row.items():
            assert _close(float(got.loc[scenario, column]), float(value)), (scenario, column)
        g = got.loc[scenario]
        assert _close(g["churn_rate_without_plan"], row["expected_churners"] / row["population_patients"])
        assert _close(
            g["churn_rate_with_plan"], (row["expected_churners"] - row["churners_avoided"]) / row["population_patients"]
        )
        assert _close(g["roi"], row["net_value"] / row["plan_cost"])
    # population: the patients active at the as-of date
    active = query(db, "select count(*) from marts.patient_churn where not is_churned").iloc[0, 0]
    assert (got["population_patients"] == active).all()
    # capacity binds where the seed says so, and a plan can take churn well below the
    # already-churned share that bounds intervention_impact's overall rate
    assert got.loc["worklist_top_1000", "patients_targeted"] == min(1000, active)
    assert got.loc["pilot_50_care_manager", "patients_targeted"] == 50  # binds at the tests' scale too
    illustrative = got[got["is_illustrative"]]
    assert list(illustrative.index) == ["study_000_reduction"]
    assert _close(illustrative["relative_churn_reduction"].iloc[0], 0.24)
    assert (got["churn_rate_with_plan"] < got["churn_rate_without_plan"]).all()


def test_the_what_if_table_macro_runs_the_marts_sql_on_the_published_file(
    ml_session_warehouse: Path, tmp_path: Path
) -> None:
    """marts.intervention_scenario_what_if (the explorer's sliders) given each seed row's
    assumptions as bound parameters gives that row of the mart: one definition. It is
    called read-only on a copy under another file name, as `carepulse build` publishes a
    file whose catalog name is not the build file's."""
    published = tmp_path / "published copy.duckdb"
    shutil.copy2(ml_session_warehouse, published)
    mart = query(ml_session_warehouse, "select * from marts.intervention_scenarios order by scenario")
    con = duckdb.connect(str(published), read_only=True)
    try:
        for row in mart.itertuples():
            got = con.execute(
                "select * from marts.intervention_scenario_what_if($1, $2, $3, $4, $5, $6)",
                [
                    row.target_risk_bands,
                    None if pd.isna(row.capacity) else int(row.capacity),
                    row.save_rate,
                    row.requires_engagement,
                    row.contact_cost,
                    row.horizon_days,
                ],
            ).fetchdf()
            assert len(got) == 1 and got["scenario"][0] == "explorer"
            for column in mart.columns.drop(["scenario", "scenario_description", "is_illustrative"]):
                want, have = getattr(row, column), got[column][0]
                if pd.isna(want):
                    assert pd.isna(have), (row.scenario, column)
                elif isinstance(want, float):
                    assert _close(have, want, rel=1e-12), (row.scenario, column)
                else:
                    assert have == want, (row.scenario, column)
    finally:
        con.close()


# --- 3. funnel_what_if -------------------------------------------------------------------------


def _project_funnel(funnel: pd.DataFrame, uplifts: dict[str, float]) -> pd.DataFrame:
    """Walk the stages in order: the first stage's entrants as observed, each next stage's
    entrants = projected completers x the observed completers-to-next-entrants ratio."""
    funnel = funnel.sort_values("stage_order").reset_index(drop=True)
    rows, entered = [], float(funnel.loc[0, "patients_entered"])
    for i, stage in funnel.iterrows():
        observed = stage["patients_completed"] / stage["patients_entered"] if stage["patients_entered"] else 0.0
        rate = min(1.0, max(0.0, observed + uplifts.get(stage["stage"], 0.0)))
        completed = entered * rate
        rows.append(
            {"stage": stage["stage"], "projected_patients_entered": entered, "projected_patients_completed": completed}
        )
        if i + 1 < len(funnel):
            nxt = funnel.loc[i + 1, "patients_entered"]
            entered = completed * nxt / stage["patients_completed"] if stage["patients_completed"] else float(nxt)
    return pd.DataFrame(rows)


def _assert_funnel(db: Path, got: pd.DataFrame, scenario: str, uplifts: dict[str, float]) -> None:
    funnel = query(db, "select * from marts.care_journey_funnel")
    want = _project_funnel(funnel, uplifts)
    rows = got[got["scenario"] == scenario].sort_values("stage_order").reset_index(drop=True)
    assert list(rows["stage"]) == list(want["stage"]), scenario
    for column in ("projected_patients_entered", "projected_patients_completed"):
        assert np.allclose(rows[column], want[column], rtol=1e-9), (scenario, column)
    pathway = funnel["pathway_patients"].iloc[0]
    assert np.allclose(
        rows["projected_follow_up_completion_rate"], want["projected_patients_completed"].iloc[-1] / pathway
    )


def test_funnel_what_if_projects_each_seed_scenario(small_warehouse: Path) -> None:
    got = query(small_warehouse, "select * from marts.funnel_what_if")
    seed = pd.read_csv(SEEDS / "decisions" / "funnel_uplift_scenarios.csv")
    assert set(got["scenario"]) == {"baseline", *seed["scenario"]}
    _assert_funnel(small_warehouse, got, "baseline", {})
    baseline = got[got["scenario"] == "baseline"]
    funnel = query(
        small_warehouse, "select stage, patients_completed, cumulative_conversion_rate from marts.care_journey_funnel"
    )
    assert np.allclose(
        baseline.sort_values("stage")["projected_patients_completed"], funnel.sort_values("stage")["patients_completed"]
    )
    for scenario, rows in seed.groupby("scenario"):
        uplifts = dict(zip(rows["stage"], rows["conversion_uplift"], strict=True))
        _assert_funnel(small_warehouse, got, scenario, uplifts)
        assert (
            got.loc[got["scenario"] == scenario, "projected_follow_up_completion_rate"]
            > baseline["projected_follow_up_completion_rate"].iloc[0]
        ).all(), scenario


def test_funnel_uplift_var_adds_a_scenario_and_a_bad_one_is_named(
    small_raw: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / small_warehouse.name
    shutil.copy2(small_warehouse, db)
    uplifts = {"screening": 0.05, "treatment": 0.1}
    run_dbt(["run", "--select", "funnel_what_if"], small_raw, db, dbt_vars={"funnel_uplift": uplifts})
    got = query(db, "select * from marts.funnel_what_if")
    assert "vars" in set(got["scenario"])
    _assert_funnel(db, got, "vars", uplifts)
    bad = run_dbt(
        ["run", "--select", "funnel_what_if"],
        small_raw,
        db,
        dbt_vars={"funnel_uplift": {"screenin": 0.05}},
        check=False,
    )
    assert bad.returncode != 0
    assert "funnel_uplift: unknown stage 'screenin'" in bad.stdout


def test_the_funnel_table_macro_runs_the_marts_sql_on_the_published_file(small_warehouse: Path, tmp_path: Path) -> None:
    """marts.funnel_what_if_explorer (the explorer's stage sliders) given each seed
    scenario's uplifts as bound lists gives that scenario's mart rows, and the baseline's;
    called read-only on a copy under another file name, as published."""
    published = tmp_path / "published copy.duckdb"
    shutil.copy2(small_warehouse, published)
    mart = query(small_warehouse, "select * from marts.funnel_what_if order by scenario, stage_order")
    computed = mart.columns.drop(["scenario", "scenario_description"])
    con = duckdb.connect(str(published), read_only=True)
    try:
        for scenario, want in mart.groupby("scenario"):
            got = con.execute(
                "select * from marts.funnel_what_if_explorer($1, $2) order by scenario, stage_order",
                [list(want["stage"]), [float(u) for u in want["conversion_uplift"]]],
            ).fetchdf()
            assert list(got["scenario"].unique()) == ["baseline", "explorer"]
            for name, rows in (("explorer", want), ("baseline", mart[mart["scenario"] == "baseline"])):
                have = got[got["scenario"] == name].reset_index(drop=True)[computed]
                pd.testing.assert_frame_equal(
                    have, rows.reset_index(drop=True)[computed], rtol=1e-12, obj=f"{scenario}: {name}"
                )
    finally:
        con.close()


# --- 4. visit_plan_what_if and provider_revenue_concentration -----------------------------------


def test_visit_plan_what_if_prices_each_plan_and_the_current_one_is_segment_roi(small_warehouse: Path) -> None:
    db = small_warehouse
    got = query(db, "select * from marts.visit_plan_what_if")
    providers = query(db, "select segment, total_revenue, revenue_last_90d from marts.provider_segments")
    sizes = providers.groupby("segment").agg(
        providers=("segment", "size"), revenue=("total_revenue", "sum"), quarterly=("revenue_last_90d", "sum")
    )
    current = pd.read_csv(SEEDS / "providers" / "segment_visit_plans.csv").set_index("segment")
    alternatives = pd.read_csv(SEEDS / "decisions" / "visit_plan_alternatives.csv")
    plans = {"current_plan": {s: (current.loc[s, "visits_per_quarter"], COST_PER_VISIT) for s in current.index}}
    for scenario, rows in alternatives.groupby("scenario"):
        plans[scenario] = {
            **plans["current_plan"],
            **{r.segment: (r.visits_per_quarter, r.cost_per_visit) for r in rows.itertuples()},
        }
    assert set(got["scenario"]) == set(plans)
    for scenario, plan in plans.items():
        rows = got[got["scenario"] == scenario].set_index("segment")
        total_investment = 0.0
        for segment, (visits, cost) in plan.items():
            n = sizes["providers"].get(segment, 0)
            investment = n * visits * cost
            total_investment += investment
            row = rows.loc[segment]
            assert row["grain"] == "segment" and row["providers"] == n
            assert _close(row["investment"], investment), (scenario, segment)
            if investment:
                assert _close(row["roi"], float(sizes["revenue"].get(segment, 0)) / investment)
                assert _close(row["quarterly_roi"], float(sizes["quarterly"].get(segment, 0)) / investment)
        portfolio = rows.loc["All segments"]
        assert portfolio["grain"] == "portfolio"
        assert _close(portfolio["investment"], total_investment)
        assert _close(portfolio["roi"], float(sizes["revenue"].sum()) / total_investment)
    segment_roi = query(db, "select segment, roi from marts.segment_roi where investment > 0").set_index("segment")
    now = got[(got["scenario"] == "current_plan") & (got["grain"] == "segment")].set_index("segment")
    for segment, row in segment_roi.iterrows():
        assert _close(now.loc[segment, "roi"], row["roi"])
    portfolio_roi = query(db, "select roi from marts.portfolio_roi").iloc[0, 0]
    assert _close(got.query("scenario == 'current_plan' and grain == 'portfolio'")["roi"].iloc[0], portfolio_roi)


def test_provider_revenue_concentration_is_the_sorted_cumulative_share(small_warehouse: Path) -> None:
    got = query(small_warehouse, "select * from marts.provider_revenue_concentration order by provider_percentile")
    revenue = query(small_warehouse, "select total_revenue from marts.provider_performance")["total_revenue"]
    revenue = np.sort(revenue.astype(float).to_numpy())[::-1]
    assert list(got["provider_percentile"]) == list(range(1, 101))
    for row in got.itertuples():
        top = math.ceil(row.provider_percentile * len(revenue) / 100)
        assert row.top_providers == top
        assert _close(row.cumulative_revenue_share, revenue[:top].sum() / revenue.sum())
    shares = got["cumulative_revenue_share"].to_numpy()
    assert (np.diff(shares) >= -1e-12).all() and _close(shares[-1], 1.0)
    assert shares[19] > 0.2  # the top 20% bring more than their share: revenue is concentrated
