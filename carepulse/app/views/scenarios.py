"""Scenarios: the what-if marts (retention plans, care pathway uplift, visit plans) by scenario.

The numbers are the marts' own rows (models/marts/decisions), so the page and the report
agree; assumptions live in seeds/decisions and the `funnel_uplift` var.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TITLE = "Scenarios"

#: (mart, heading, what it projects)
SECTIONS = (
    (
        "marts.intervention_scenarios",
        "Retention plans",
        "churn within the horizon of the patients active at the "
        "as-of date, with and without the plan (seed intervention_scenario_assumptions; projections, not findings)",
    ),
    (
        "marts.funnel_what_if",
        "Care pathway uplift",
        "patients reaching each stage if a stage converted better (seed funnel_uplift_scenarios, var funnel_uplift)",
    ),
    (
        "marts.visit_plan_what_if",
        "Visit plans",
        "investment and ROI per provider segment and for the portfolio (seed visit_plan_alternatives)",
    ),
)


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
    if not shown:
        st.info("No what-if marts in this warehouse (intervention_scenarios is built after the ML step).")
