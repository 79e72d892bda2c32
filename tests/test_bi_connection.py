"""The documented read-only SQLAlchemy connection (duckdb-engine, what BI tools such as
Superset use): it reads the marts, cannot write, survives odd file names, and keeps
answering, with the explorer on the same path, while `carepulse build` publishes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlalchemy
from conftest import PROJECT_DIR, query, write_raw_tables
from test_foundation import minimal_raw_tables
from test_publish import READ_MODELS, _build, reader_results, stop_readers

from carepulse.app.connection import read_only_engine, warehouse_url


def test_the_documented_url_reads_the_marts_as_a_bi_tool_does(ml_session_warehouse: Path) -> None:
    url = warehouse_url(ml_session_warehouse)
    assert url == f"duckdb:///{ml_session_warehouse}?access_mode=read_only"
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "duckdb:////absolute/path/to/warehouse/carepulse.duckdb?access_mode=read_only" in readme
    expected_tables = set(
        query(
            ml_session_warehouse, "select table_name from information_schema.tables where table_schema = 'marts'"
        ).table_name
    )
    expected_churned = query(ml_session_warehouse, "select count(*) as n from marts.patient_churn where is_churned").n[
        0
    ]

    # What a BI tool does with the URL it is given: its own engine (pooled), list, describe, query.
    # (DuckDB refuses a second configuration of one file in one process, so the plain duckdb
    # reads above run before the engine opens and none run until it is disposed.)
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        tables = set(inspector.get_table_names(schema="marts")) | set(inspector.get_view_names(schema="marts"))
        # Column listing through information_schema: duckdb-engine 0.17's get_columns under
        # SQLAlchemy 2.1 asks for pg_catalog.pg_collation, which DuckDB 2.0 lacks (README says so;
        # this fails when new pins fix it, so the README is corrected then).
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="pg_collation"):
            inspector.get_columns("outreach_priority", schema="marts")
        with engine.connect() as connection:
            columns = list(
                connection.execute(
                    sqlalchemy.text(
                        "select column_name from information_schema.columns where table_schema = 'marts' "
                        "and table_name = 'outreach_priority' order by ordinal_position"
                    )
                ).scalars()
            )
        with engine.connect() as connection:
            churned = connection.execute(
                sqlalchemy.text("select count(*) from marts.patient_churn where is_churned = :churned"),
                {"churned": True},
            ).scalar_one()
            with pytest.raises(sqlalchemy.exc.SQLAlchemyError, match="read-only"):
                connection.execute(sqlalchemy.text("create table marts.bi_scratch as select 1 as x"))
    finally:
        engine.dispose()
    assert tables == expected_tables and "outreach_priority" in tables
    assert columns[:2] == ["priority_rank", "patient_id"]
    assert churned == expected_churned


def test_url_survives_spaces_quotes_and_percent_signs_in_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "BI share 'Q1' #2 100%"
    folder.mkdir()
    db = folder / "care pulse.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts; create table marts.t as select 7 as x")
    with read_only_engine(db).connect() as connection:
        assert connection.execute(sqlalchemy.text("select x from marts.t")).scalar_one() == 7


READER = textwrap.dedent(
    """
    import json, os, sys, time
    import sqlalchemy
    from streamlit.testing.v1 import AppTest
    from carepulse.app.connection import read_only_engine, snapshot
    from carepulse.app.launch import MAIN
    db, out, stop, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    os.environ["CAREPULSE_DB"] = db
    # "app": the explorer's engine, a fresh read-only connection per use, and its KPI page;
    # "held": a BI tool that keeps one connection all day. Separate processes: DuckDB shares
    # one database instance per file within a process, so a held connection would keep the
    # explorer's connections on the old snapshot too.
    engine = read_only_engine(db)
    held = sqlalchemy.create_engine(engine.url).connect() if mode == "held" else None
    answers, pages, errors = [], 0, []
    sql = sqlalchemy.text(
        "select (select count(*) from marts.dim_patients), "
        "(select rows_accepted from audit.audit_reconciliation where source_table = 'patients')"
    )
    app = AppTest.from_file(str(MAIN), default_timeout=120)
    deadline = time.time() + 600
    while time.time() < deadline and not os.path.exists(stop):
        try:
            if held is not None:
                answers.append(list(held.execute(sql).one()))
            else:
                with snapshot(engine) as connection:
                    answers.append(list(connection.execute(sql).one()))
                app.run()
                if app.exception or app.error or [h.value for h in app.header] != ["Key figures"]:
                    errors.append(repr([e.value for e in app.exception] + [e.value for e in app.error]))
                pages += 1
        except Exception as error:  # every query and every page must answer
            errors.append(repr(error))
        time.sleep(0.05)
    if held is not None:
        held.close()
    json.dump({"answers": answers, "pages": pages, "errors": errors}, open(out, "w"))
    """
)


#: What the readers below query: the publish test's models and the explorer's KPI page.
APP_MODELS = (*READ_MODELS, "+dim_patients", "+as_of_date", "+patient_activity_monthly", "+executive_kpis")


def test_sqlalchemy_and_the_explorer_keep_answering_while_a_build_publishes(tmp_path: Path) -> None:
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    db = tmp_path / "warehouse" / "carepulse.duckdb"
    first = _build(raw, db, APP_MODELS)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    script = tmp_path / "reader.py"
    script.write_text(READER)
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen([sys.executable, str(script), str(db), str(tmp_path / f"{mode}.json"), str(stop), mode])
        for mode in ("app", "held")
    }
    try:
        time.sleep(5)
        grown = minimal_raw_tables()
        extra = grown["patients"].iloc[[0]].assign(patient_id="P3", email="p3@example.invalid")
        grown["patients"] = pd.concat([grown["patients"], extra], ignore_index=True)
        write_raw_tables(raw, grown)
        second = _build(raw, db, APP_MODELS)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        time.sleep(5)
    finally:
        stop_readers(readers, stop, timeout=300)

    results = reader_results(readers, tmp_path, min_answers=3)
    assert results["app"]["pages"] > 3
    assert {patients for patients, _ in results["app"]["answers"]} == {2, 3}, "the explorer sees the new build"
    assert {patients for patients, _ in results["held"]["answers"]} == {2}, "a held connection keeps its snapshot"
