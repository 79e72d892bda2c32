"""Shared pytest fixtures: real dbt runs against real DuckDB files on small data.

dbt runs in a subprocess (dbt-duckdb keeps its connection open in-process, so the same
process could not reopen the file afterwards; see upstream dbt-duckdb issue 616).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT = str(Path(sys.executable).parent / "dbt")


def run_dbt(
    args: Sequence[str],
    raw_dir: Path,
    db_path: Path,
    as_of: str | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command from the project root against raw_dir and db_path."""
    env = dict(os.environ)
    env.update(
        CAREPULSE_RAW_DIR=str(raw_dir),
        CAREPULSE_DB=str(db_path),
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        CAREPULSE_THREADS="2",
    )
    env.pop("CAREPULSE_AS_OF", None)
    if as_of:
        env["CAREPULSE_AS_OF"] = as_of
    command = [DBT, *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    # A separate target path per database keeps parallel or consecutive runs apart.
    command += ["--target-path", str(db_path.parent / "target"), "--log-path", str(db_path.parent / "logs")]
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def copy_project(destination: Path) -> Path:
    """What dbt reads of the project (no data, warehouse, venv or build output), for tests
    that edit seeds or models without touching the working tree."""
    destination.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml", "selectors.yml"):
        shutil.copy2(PROJECT_DIR / name, destination / name)
    for name in ("models", "macros", "seeds", "analyses", "tests/dbt"):
        if (PROJECT_DIR / name).exists():
            shutil.copytree(PROJECT_DIR / name, destination / name)
    return destination


def query(db_path: Path, sql: str) -> pd.DataFrame:
    """Run one query read-only and close the connection (DuckDB allows one writer)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchdf()
    finally:
        con.close()


def write_raw_tables(raw_dir: Path, tables: Mapping[str, pd.DataFrame], fmt: str = "csv") -> Path:
    """Write hand-made raw tables as <table>.csv or .parquet (everything as text for csv)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(raw_dir / f"{name}.csv", index=False)
        else:
            frame.to_parquet(raw_dir / f"{name}.parquet", index=False)
    return raw_dir


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated raw files at a tiny scale, shared by the whole session (read-only use)."""
    from carepulse.generate import generate

    out = tmp_path_factory.mktemp("small") / "raw"
    generate(scale=0.01, seed=7, out=out, fmt="parquet", dirty_rate=0.0)
    return out


@pytest.fixture(scope="session")
def small_warehouse(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse built with `dbt build` from small_raw; tests only read it."""
    db_path = tmp_path_factory.mktemp("small_wh") / "carepulse.duckdb"
    run_dbt(["build"], small_raw, db_path)
    yield db_path
