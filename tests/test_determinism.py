"""Determinism: the same raw files and seeds give the same warehouse. A second `dbt build`
and ML step on the session's files, in a fresh database, must hash table by table to the
session's own build: every staging, intermediate, mart, audit and ml table and view, except
run ids, timestamps of the run and file paths."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import pytest
from conftest import run_dbt, run_ml_step

SCHEMAS = ("staging", "intermediate", "marts", "ml", "audit")
#: What differs between two runs by design: ids and clocks of the run, where files went,
#: and the saved model file's hash (the file records its run id).
RUN_COLUMNS = {"run_id", "trained_at", "scored_at", "model_path", "model_sha256"}


def _varies_by_run(column: str) -> bool:
    return column in RUN_COLUMNS or column.endswith(("_seconds", "_path"))


def table_digests(db: Path) -> dict[str, tuple[int, int]]:
    """(rows, order-independent hash of the rows) per table and view of the layer schemas,
    hashed by DuckDB in one connection: each row's hash of its columns (the run's columns
    left out), summed; equal tables give equal sums, and one changed cell changes its row's
    hash (the rows were read into pandas and hashed as text before, about 20 times slower)."""
    with contextlib.chdir(db.parent):  # the raw views read RAW_LINK there (conftest.run_dbt)
        con = duckdb.connect(str(db), read_only=True)
        try:
            tables = con.execute(
                "select table_schema, table_name, list(column_name order by ordinal_position)"
                " from information_schema.columns"
                f" where table_schema in ({', '.join(repr(s) for s in SCHEMAS)}) group by all order by all"
            ).fetchall()
            digests = {}
            for schema, table, columns in tables:
                row = ", ".join(f'"{c}"' for c in columns if not _varies_by_run(c))
                rows, total = con.execute(
                    f"select count(*), coalesce(sum(hash(row({row}))) % (1::hugeint << 63), 0)"
                    f' from "{schema}"."{table}"'
                ).fetchone()
                digests[f"{schema}.{table}"] = (rows, int(total))
            return digests
        finally:
            con.close()


@pytest.fixture(scope="module")
def second_build(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("second_build")
    db = base / "carepulse.duckdb"
    # The session's `dbt build` (default selector) and post-ML build without their data tests,
    # which write no table (the session's own builds run them).
    no_tests = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    run_dbt(["build", *no_tests], small_raw, db)
    return run_ml_step(db, small_raw, base / "models", no_tests)


def test_two_builds_of_the_same_files_hash_identically(ml_session_warehouse: Path, second_build: Path) -> None:
    first, second = table_digests(ml_session_warehouse), table_digests(second_build)
    assert set(first) == set(second)
    assert len(first) > 60 and {"ml.churn_predictions", "marts.outreach_priority"} <= set(first)
    assert first["ml.churn_predictions"][0] > 500
    differing = sorted(name for name in first if first[name] != second[name])
    assert not differing, f"tables that differ between two builds of the same files: {differing}"
