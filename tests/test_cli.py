"""The command line: generate through the CLI, export, and plain errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from conftest import PROJECT_DIR, query


def _carepulse(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carepulse", *args],
        cwd=PROJECT_DIR,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
    )


def test_generate_writes_every_contract_file_as_csv(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    result = _carepulse("generate", "--scale", "0.005", "--seed", "3", "--out", str(out), "--format", "csv")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{t}.csv"
        for t in ["patients", "engagement_events", "care_journey_stages", "outreach_calls", "providers", "claims"]
    )
    assert (tmp_path / "ground_truth" / "patient_truth.parquet").exists()
    assert "patients" in result.stdout


def test_export_writes_each_mart_as_parquet_with_the_same_rows(small_warehouse: Path, tmp_path: Path) -> None:
    env = dict(os.environ, CAREPULSE_DB=str(small_warehouse))
    result = _carepulse("export", "--format", "parquet", "--out-dir", str(tmp_path / "export"), env=env)
    assert result.returncode == 0, result.stderr
    marts = query(small_warehouse, "select table_name from information_schema.tables where table_schema = 'marts'")
    assert len(marts) > 5
    for name in marts.table_name:
        path = tmp_path / "export" / "marts" / f"{name}.parquet"
        assert path.exists(), name
        exported = duckdb.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]
        built = query(small_warehouse, f"select count(*) as n from marts.{name}").n[0]
        assert exported == built, name


def test_build_on_incomplete_raw_folder_says_which_files_are_missing(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "patients.csv").write_text("patient_id\nP1\n")
    env = dict(os.environ, CAREPULSE_RAW_DIR=str(raw), CAREPULSE_DB=str(tmp_path / "wh.duckdb"))
    result = _carepulse("build", env=env)
    assert result.returncode == 1
    assert "incomplete" in result.stderr and "claims.parquet/.csv" in result.stderr
    assert not (tmp_path / "wh.duckdb").exists()
