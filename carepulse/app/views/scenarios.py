"""Scenarios: the what-if marts (retention plans, care pathway uplift, visit plans), and a
retention plan and care-pathway uplifts of the user's own, with sliders.

The tables are the marts' own rows (models/marts/decisions), so the page and the report
agree; assumptions live in seeds/decisions and the `funnel_uplift` var. The sliders' values
go, as bound parameters, into DuckDB table macros in the warehouse
(marts.intervention_scenario_what_if, marts.funnel_what_if_explorer) whose bodies are the
marts' own SQL (macros intervention_scenarios_sql, funnel_what_if_sql): moving a slider
reruns the mart's definition, never a Python copy of it. The sliders start at a seed
scenario's values, so untouched they reproduce that scenario's mart rows. DuckDB only, as
the explorer is: other engines build the marts without the table macros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TITLE = "Scenarios"
RETENTION_MART = "marts.intervention_scenarios"
FUNNEL_MART = "marts.funnel_what_if"

#: (mart, heading, what it projects)
SECTIONS = (
    (
        RETENTION_MART,
        "Retention plans",
        "churn within the horizon of the patients active at the "
        "as-of date, with and without the plan (seed intervention_scenario_assumptions; projections, not findings)",
    ),
    (
        FUNNEL_MART,
        "Care pathway uplift",
        "patients reaching each stage if a stage converted better (seed funnel_uplift_scenarios, var funnel_uplift)",
    ),
    (
        "marts.visit_plan_what_if",
        "Visit plans",
        "investment and ROI per provider segment and for the portfolio (seed visit_plan_alternatives)",
    ),
)

#: Slider ranges: wide enough for every plausible plan, and for the seed's values.
MAX_HORIZON_DAYS = 1095
MAX_CONTACT_COST = 250.0


def plan_key(scenario: str, name: str) -> str:
    """A slider's widget key: per starting scenario, so choosing another one starts from its values."""
    return f"plan_{scenario}_{name}"


def plan_metrics(row: pd.Series) -> dict[str, str]:
    """The figures shown for a plan, formatted (label -> text), from an intervention_scenarios row."""
    roi = row["roi"]
    return {
        "Patients targeted": f"{int(row['patients_targeted']):,}",
        "Churners avoided": f"{row['churners_avoided']:,.1f}",
        "Churn rate without plan": f"{row['churn_rate_without_plan']:.1%}",
        "Churn rate with plan": f"{row['churn_rate_with_plan']:.1%}",
        "Revenue retained": f"${row['revenue_retained']:,.0f}",
        "Plan cost": f"${row['plan_cost']:,.0f}",
        "Net value": f"${row['net_value']:,.0f}",
        "ROI": "n/a" if pd.isna(roi) else f"{roi:.2f}",
    }


def _plan_from_sliders(connection: Connection, base: pd.Series) -> queries.RetentionPlan:
    """Sliders (and band, engagement choices) starting at the base scenario's assumptions."""
    scenario = base["scenario"]
    population = int(base["population_patients"])
    bands = queries.distinct_values(connection, "marts.outreach_priority", "churn_risk_band")
    chosen_bands = st.multiselect(
        "Target churn risk bands",
        bands,
        default=[band for band in str(base["target_risk_bands"]).split("|") if band in bands],
        key=plan_key(scenario, "bands"),
    )
    seed_capacity = None if pd.isna(base["capacity"]) else int(base["capacity"])
    unlimited = st.checkbox(
        "No capacity limit (contact every targeted patient)", value=seed_capacity is None, key=plan_key(scenario, "all")
    )
    capacity = st.slider(
        "Target capacity (patients contacted, in worklist order)",
        0,
        max(population, seed_capacity or 0, 1),
        population if seed_capacity is None else seed_capacity,
        key=plan_key(scenario, "capacity"),
        disabled=unlimited,
    )
    save_rate = st.slider(
        "Save rate (share of targeted would-be churners kept)",
        0.0,
        1.0,
        float(base["save_rate"]),
        0.01,
        key=plan_key(scenario, "save_rate"),
    )
    engagement = st.checkbox(
        "A save needs the patient to engage (x P(engage))",
        value=bool(base["requires_engagement"]),
        key=plan_key(scenario, "engagement"),
    )
    contact_cost = st.slider(
        "Contact cost (USD per patient contacted)",
        0.0,
        max(MAX_CONTACT_COST, float(base["contact_cost"])),
        float(base["contact_cost"]),
        0.5,
        key=plan_key(scenario, "contact_cost"),
    )
    horizon = st.slider(
        "Horizon (days after the as-of date)",
        1,
        max(MAX_HORIZON_DAYS, int(base["horizon_days"])),
        int(base["horizon_days"]),
        key=plan_key(scenario, "horizon"),
    )
    return queries.RetentionPlan(
        target_risk_bands=tuple(chosen_bands),
        capacity=None if unlimited else int(capacity),
        save_rate=float(save_rate),
        requires_engagement=bool(engagement),
        contact_cost=float(contact_cost),
        horizon_days=int(horizon),
    )


def _render_own_plan(connection: Connection, plans: pd.DataFrame) -> None:
    st.markdown(
        "**Try a plan**: the sliders start at a scenario's assumptions; the figures are the mart's SQL run "
        "with the sliders' values (marts.intervention_scenario_what_if)."
    )
    if not queries.has_table_macro(connection, queries.RETENTION_WHAT_IF):
        st.info(
            "This warehouse has no marts.intervention_scenario_what_if (built with the post-ML models on DuckDB): "
            "rebuild it with `carepulse build` to try plans."
        )
        return
    names = list(plans["scenario"])
    start = st.selectbox("Start from scenario", names, key="plan_start")
    base = plans[plans["scenario"] == start].iloc[0]
    try:
        plan = _plan_from_sliders(connection, base)
    except ValueError as problem:
        st.warning(str(problem))
        return
    result = queries.retention_what_if(connection, plan)
    row = result.iloc[0]
    figures = plan_metrics(row)
    for column, (label, text) in zip([*st.columns(4), *st.columns(4)], figures.items(), strict=True):
        column.metric(label, text)
    st.dataframe(result, hide_index=True, key="plan_result")


def funnel_key(scenario: str, stage: str) -> str:
    """A stage slider's widget key, per starting scenario (as plan_key)."""
    return f"funnel_{scenario}_{stage}"


def _render_own_funnel(connection: Connection, scenarios: pd.DataFrame) -> None:
    st.markdown(
        "**Try uplifts**: one slider per stage (percentage points added to its conversion rate), starting at a "
        "scenario's uplifts; the projection is the mart's SQL run with the sliders' values "
        "(marts.funnel_what_if_explorer)."
    )
    if not queries.has_table_macro(connection, queries.FUNNEL_WHAT_IF):
        st.info(
            "This warehouse has no marts.funnel_what_if_explorer (built with funnel_what_if on DuckDB): "
            "rebuild it with `carepulse build` to try uplifts."
        )
        return
    start = st.selectbox("Start from scenario", sorted(set(scenarios["scenario"])), key="funnel_start")
    stages = scenarios[scenarios["scenario"] == start].sort_values("stage_order")
    uplifts = {
        stage: st.slider(f"Uplift of {stage} (points)", -1.0, 1.0, float(uplift), 0.01, key=funnel_key(start, stage))
        for stage, uplift in zip(stages["stage"], stages["conversion_uplift"], strict=True)
    }
    projected = queries.funnel_what_if(connection, uplifts)
    mine = projected[projected["scenario"] == "explorer"]
    observed = mine["observed_follow_up_completion_rate"].iloc[0]
    rate = mine["projected_follow_up_completion_rate"].iloc[0]
    columns = st.columns(2)
    columns[0].metric("Follow-up completion rate", f"{rate:.2%}", f"{(rate - observed) * 100:+.2f} points")
    columns[1].metric("Additional completions (last stage)", f"{mine['additional_patients_completed'].iloc[-1]:,.1f}")
    st.dataframe(mine, hide_index=True, key="funnel_result")


def render(connection: Connection, present: set[str]) -> None:
    st.header("Scenarios")
    shown = 0
    for relation, heading, description in SECTIONS:
        if relation not in present:
            continue
        shown += 1
        st.subheader(heading)
        st.caption(description)
        names = queries.distinct_values(connection, relation, "scenario")
        key = relation.split(".")[1]
        chosen = st.selectbox("Scenario", ["(all)", *names], key=f"scenario_{key}")
        rows = queries.scenario_table(connection, relation, None if chosen == "(all)" else chosen)
        st.dataframe(rows, hide_index=True)
        if relation == RETENTION_MART and len(names):
            _render_own_plan(connection, queries.scenario_table(connection, relation))
        if relation == FUNNEL_MART and len(names):
            _render_own_funnel(connection, queries.scenario_table(connection, relation))
    if not shown:
        st.info("No what-if marts in this warehouse (intervention_scenarios is built after the ML step).")
