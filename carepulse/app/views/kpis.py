"""KPIs: the executive KPIs at the as-of date and per month."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TITLE = "KPIs"


def render(connection: Connection, present: set[str]) -> None:
    st.header("Key figures")
    as_of = queries.as_of(connection)
    if len(as_of):
        st.caption(f"As of {as_of['as_of_date'][0]} ({as_of['as_of_source'][0]}).")
    if "marts.executive_kpis" in present:
        kpis = queries.executive_kpis(connection)
        current = kpis[kpis["period_type"] == "as_of"]
        if len(current):
            row = current.iloc[0]
            columns = st.columns(5)
            columns[0].metric("Patients", f"{int(row['patients']):,}")
            columns[1].metric("Active patients", f"{int(row['active_patients']):,}")
            columns[2].metric("Churn rate", f"{row['churn_rate']:.1%}")
            columns[3].metric("Revenue (window)", f"${row['revenue_usd']:,.0f}")
            columns[4].metric("Outreach engagement", f"{row['outreach_engagement_rate']:.1%}")
        st.subheader("Executive KPIs per month (marts.executive_kpis)")
        st.dataframe(kpis, hide_index=True)
    else:
        st.info("marts.executive_kpis is not in this warehouse; showing monthly activity only.")
    monthly = queries.monthly_activity(connection)
    st.subheader("Active patients and revenue per month")
    st.line_chart(monthly, x="activity_month", y=["active_patients"])
    st.line_chart(monthly, x="activity_month", y=["revenue_usd"])
