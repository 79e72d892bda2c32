"""The singular test assert_fct_engagement_events_is_complete stands in for a unique test on
fct_engagement_events.event_id: the fact must hold the accepted events' keys (unique where the
audit makes them) and as many rows, so a key loaded twice fails it. Checked on a copy of the
session warehouse, as built and with one event loaded twice."""

import shutil
from pathlib import Path

import duckdb
from conftest import run_dbt

SELECT = ["test", "--select", "assert_fct_engagement_events_is_complete"]


def _copy(small_warehouse: Path, folder: Path) -> Path:
    folder.mkdir()
    db_path = folder / small_warehouse.name
    shutil.copyfile(small_warehouse, db_path)
    return db_path


def test_complete_fact_passes(small_build, small_warehouse: Path, tmp_path: Path) -> None:
    db_path = _copy(small_warehouse, tmp_path / "as_built")
    result = run_dbt(SELECT, small_build.raw, db_path, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "PASS assert_fct_engagement_events_is_complete" in result.stdout


def test_event_loaded_twice_fails(small_build, small_warehouse: Path, tmp_path: Path) -> None:
    db_path = _copy(small_warehouse, tmp_path / "duplicated")
    con = duckdb.connect(str(db_path))
    try:
        con.execute("insert into marts.fct_engagement_events select * from marts.fct_engagement_events limit 1")
    finally:
        con.close()
    result = run_dbt(SELECT, small_build.raw, db_path, check=False)
    assert result.returncode != 0
    assert "FAIL 1" in result.stdout, result.stdout[-3000:]
