"""Providers: segment ROI, provider concentration and a filterable provider list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TITLE = "Providers"


def render(connection: Connection, present: set[str]) -> None:
    st.header("Providers")
    roi = queries.segment_roi(connection)
    st.subheader("Segments: revenue, visit investment and ROI (marts.segment_roi)")
    st.dataframe(roi, hide_index=True, key="providers_segments")
    st.bar_chart(roi, x="segment", y="revenue_share")
    if "marts.provider_revenue_concentration" in present:
        curve = queries.revenue_concentration(connection)
        top20 = curve[curve["provider_percentile"] == 20]
        st.subheader("Revenue concentration (marts.provider_revenue_concentration)")
        if len(top20):
            st.write(f"The top 20% of providers bring {top20['cumulative_revenue_share'].iloc[0]:.1%} of revenue.")
        st.line_chart(curve, x="provider_percentile", y="cumulative_revenue_share")
    segments = st.multiselect("Segment", list(roi["segment"]), key="providers_segment")
    states = st.multiselect(
        "State", queries.distinct_values(connection, "marts.dim_providers", "state"), key="providers_state"
    )
    specialties = st.multiselect(
        "Specialty", queries.distinct_values(connection, "marts.dim_providers", "specialty"), key="providers_specialty"
    )
    limit = st.number_input("Rows", min_value=1, max_value=10_000, value=200, step=50, key="providers_limit")
    listed = queries.providers(connection, segments, states, specialties, int(limit))
    st.write(f"{len(listed)} providers, highest revenue first")
    st.dataframe(listed, hide_index=True, key="providers_table")
