"""The Streamlit script `carepulse app` runs: a read-only explorer of the published warehouse.

Why it reads the warehouse the way a BI tool does: it connects through the same read-only
SQLAlchemy URL (carepulse.app.connection) to the file `carepulse build` publishes, opening
a fresh connection on every rerun, so it never blocks a build, never sees one half done,
and shows a new build as soon as it is published. The warehouse comes from the same
Settings as every other command (CAREPULSE_DB; `carepulse app --db` sets it).
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from carepulse.app.connection import read_only_engine, relations, snapshot
from carepulse.app.views import churn, kpis, providers, scenarios, worklist
from carepulse.config import Settings, SettingsError
from carepulse.dbt_runner import StepFailed

PAGES = {view.TITLE: view for view in (kpis, churn, worklist, scenarios, providers)}


@st.cache_resource
def _engine(db_path: str) -> Engine:
    """One engine per warehouse path; it pools nothing, so every rerun opens the published file anew."""
    return read_only_engine(db_path)


def main() -> None:
    st.set_page_config(page_title="carepulse explorer", layout="wide")
    try:
        db_path = Settings.from_env().db_path
        engine = _engine(str(db_path))
    except (SettingsError, StepFailed) as problem:
        st.error(str(problem))
        st.stop()
    st.sidebar.title("carepulse")
    st.sidebar.caption(f"Read-only: {db_path}")
    title = st.sidebar.radio("Page", list(PAGES), key="page")
    with snapshot(engine) as connection:
        PAGES[title].render(connection, relations(connection))


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import PAGES
    main()
