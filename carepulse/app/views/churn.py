"""Churn drivers: churn rate by patient attribute, with filters."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TITLE = "Churn drivers"


def render(connection: Connection, present: set[str]) -> None:
    st.header("Churn drivers")
    st.caption(
        "Churn rate per group with its 95% Wilson interval; relative risk = the group's rate over the "
        "rate of everyone else (marts.churn_drivers)."
    )
    choices = [
        value for value in queries.distinct_values(connection, "marts.churn_drivers", "dimension") if value != "overall"
    ]
    dimensions = st.multiselect("Attributes", choices, default=choices, key="churn_dimensions")
    min_patients = st.number_input(
        "At least this many patients per group", min_value=0, value=0, step=10, key="churn_min_patients"
    )
    only_significant = st.checkbox(
        "Only groups whose 95% interval excludes the overall rate", key="churn_only_significant"
    )
    drivers = queries.churn_drivers(connection, dimensions, int(min_patients), only_significant)
    st.write(f"{len(drivers)} groups")
    st.dataframe(drivers, hide_index=True, key="churn_table")
    if len(drivers):
        chart = drivers.assign(group=drivers["dimension"] + ": " + drivers["dimension_value"])
        st.bar_chart(chart, x="group", y="relative_risk", horizontal=True)
