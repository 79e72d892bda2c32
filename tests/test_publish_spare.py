"""Issue 13 point 5: the spare a daily build starts from instead of copying the published file.

Real DuckDB files and a real reader process, no dbt (tests/test_publish.py runs carepulse
build with readers; tests/test_incremental_loads.py shows an incremental build from an older
state ends at the full rebuild's tables, which is what starting from the spare relies on).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from carepulse.publish import copy_schema, in_use, publish, refresh_spare, spare_path, usable_spare

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("select max(build) from marts.t").fetchone()[0], flush=True)
    sys.stdin.readline()
    print(con.execute("select max(build) from marts.t").fetchone()[0], flush=True)
    """
)


def _warehouse(path: Path, build: int, predictions: int) -> Path:
    """A warehouse file as a build leaves it: a dbt table and the Python-written ml schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.t as select ? as build", [build])
    con.execute("create schema ml")
    con.execute("create table ml.runs (run_id varchar primary key, rows integer not null check (rows >= 0))")
    con.execute("insert into ml.runs select 'run' || i, i from range(?) as r(i)", [predictions])
    con.execute("create view ml.runs_current as select max(run_id) as run_id from ml.runs")
    # a view over a view, which is then replaced (as ml/writeback.py replaces its views on every
    # write): the copy must create them in an order that works, whatever their names and ids
    con.execute("create view ml.a_latest as select run_id from ml.runs_current")
    con.execute("create or replace view ml.runs_current as select max(run_id) as run_id from ml.runs")
    con.close()
    return path


def _query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_publish_keeps_the_replaced_file_as_spare_unless_a_reader_holds_it(tmp_path: Path) -> None:
    db = _warehouse(tmp_path / "carepulse.duckdb", build=1, predictions=1)
    assert usable_spare(db) == (None, "no spare")
    assert refresh_spare(db) in {"clone", "copy"}  # after a build from scratch
    assert usable_spare(db)[0] == spare_path(db)

    # a reader that opened build 1 keeps it while build 2 is published over it
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "1"
        publish(_warehouse(tmp_path / "b" / "x.duckdb", build=2, predictions=2), db, keep_previous=True)
        assert _query(spare_path(db), "select build from marts.t") == [(1,)]  # the retired file
        assert in_use(spare_path(db))
        assert usable_spare(db) == (None, "a reader still holds the spare")
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "1"  # its snapshot stayed whole
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not in_use(spare_path(db))
    assert usable_spare(db) == (spare_path(db), "the spare is free")

    # the published file changed behind the build's back (a plain dbt build in place)
    con = duckdb.connect(str(db))
    con.execute("insert into marts.t values (3)")
    con.close()
    assert usable_spare(db) == (None, "the spare is not the file the last publish replaced")

    # a build from scratch drops the spare (it belongs to another lineage)
    publish(_warehouse(tmp_path / "c" / "x.duckdb", build=9, predictions=1), db, keep_previous=False)
    assert not spare_path(db).exists() and usable_spare(db) == (None, "no spare")


def test_copy_schema_gives_the_spare_the_published_ml_history(tmp_path: Path) -> None:
    published = _warehouse(tmp_path / "it's published.duckdb", build=2, predictions=3)
    spare = _warehouse(tmp_path / "spare.duckdb", build=1, predictions=1)
    copy_schema(published, spare, "ml")
    assert _query(spare, "select run_id, rows from ml.runs order by run_id") == [
        ("run0", 0),
        ("run1", 1),
        ("run2", 2),
    ]
    assert _query(spare, "select run_id from ml.runs_current") == [("run2",)]
    assert _query(spare, "select run_id from ml.a_latest") == [("run2",)]
    assert _query(spare, "select build from marts.t") == [(1,)]  # dbt's tables are left to the build
    con = duckdb.connect(str(spare))
    try:
        with pytest.raises(duckdb.ConstraintException):  # the constraints came along
            con.execute("insert into ml.runs values ('run0', 5)")
    finally:
        con.close()
