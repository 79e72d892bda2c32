"""The outreach worklist: filter, sort, download as CSV (what a CRM import takes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from carepulse.app import queries

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

TITLE = "Outreach worklist"
SHOWN_ROWS = 500


def worklist_csv(frame: pd.DataFrame) -> bytes:
    """The rows as UTF-8 CSV with a header row, empty for missing values (as `carepulse export --format csv`)."""
    return frame.to_csv(index=False, na_rep="").encode("utf-8")


def render(connection: Connection, present: set[str]) -> None:
    st.header("Outreach worklist")
    if "marts.outreach_priority" not in present:
        st.warning("marts.outreach_priority is built after the ML step: run `carepulse build` without --no-ml.")
        return
    relation = "marts.outreach_priority"
    bands = st.multiselect(
        "Churn risk band", queries.distinct_values(connection, relation, "churn_risk_band"), key="worklist_bands"
    )
    channels = st.multiselect(
        "Recommended channel",
        queries.distinct_values(connection, relation, "recommended_channel"),
        key="worklist_channels",
    )
    interventions = st.multiselect(
        "Intervention", queries.distinct_values(connection, relation, "intervention"), key="worklist_interventions"
    )
    min_probability = st.slider("Minimum churn probability", 0.0, 1.0, 0.0, 0.05, key="worklist_min_probability")
    worth = st.checkbox("Only patients worth contacting (expected value > 0)", key="worklist_worth")
    sort_by = st.selectbox("Sort by", queries.WORKLIST_COLUMNS, key="worklist_sort")
    descending = st.checkbox("Descending", key="worklist_descending")
    chosen = queries.WorklistFilter(
        risk_bands=tuple(bands),
        channels=tuple(channels),
        interventions=tuple(interventions),
        min_churn_probability=float(min_probability),
        only_worth_contacting=worth,
        sort_by=sort_by,
        descending=descending,
    )
    rows, total = queries.worklist(connection, chosen)
    st.write(f"{total} patients match; the first {min(total, SHOWN_ROWS)} are shown, the download has all of them.")
    st.dataframe(rows.head(SHOWN_ROWS), hide_index=True, key="worklist_table")
    st.download_button(
        "Download CSV",
        worklist_csv(rows),
        file_name="outreach_worklist.csv",
        mime="text/csv",
        key="worklist_download",
    )
