"""Shared pytest fixtures: real dbt runs against real DuckDB files on small data.

dbt runs in a subprocess (dbt-duckdb keeps its connection open in-process, so the same
process could not reopen the file afterwards; see upstream dbt-duckdb issue 616).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT = str(Path(sys.executable).parent / "dbt")


#: Name of the link to the raw folder, made next to each test database (see run_dbt).
RAW_LINK = "raw_input"
#: partial_parse.msgpack of the first run per parse key, reused by later runs with that key.
_PARSE_CACHE: dict[tuple[str, ...], Path] = {}


def _parse_key(args: Sequence[str], db_path: Path, as_of: str | None, vars_json: str) -> tuple[str, ...]:
    """What dbt's partial parsing depends on besides the project files: the project, the
    profile (the database path, so its name: dbt runs next to it), the project's env vars
    (CAREPULSE_RAW_DIR is always RAW_LINK; CAREPULSE_AS_OF) and --vars."""
    project = str(PROJECT_DIR)
    if "--project-dir" in args:
        project = str(Path(args[list(args).index("--project-dir") + 1]).resolve())
    return (project, db_path.name, as_of or "", vars_json)


def run_dbt(
    args: Sequence[str],
    raw_dir: Path,
    db_path: Path,
    as_of: str | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command of the project against raw_dir and db_path.

    Why it runs in the database's folder with relative paths: dbt re-parses the whole
    project (10-15 s) whenever the profile or the project's env vars differ from the saved
    parse, and both hold the database and raw paths. With CAREPULSE_DB = the file name and
    CAREPULSE_RAW_DIR = a link named RAW_LINK beside it, every test database with the same
    file name, as-of date and vars parses identically, so the saved parse of the first run
    (target/partial_parse.msgpack) is copied into the next one's target folder and reused.
    A separate target path per database keeps consecutive runs' artifacts apart.
    """
    work = db_path.parent
    work.mkdir(parents=True, exist_ok=True)
    link = work / RAW_LINK
    if Path(raw_dir).resolve() != link.resolve():
        if link.is_symlink():
            link.unlink()
        link.symlink_to(Path(raw_dir).resolve(), target_is_directory=True)
    env = dict(os.environ)
    env.update(
        CAREPULSE_RAW_DIR=RAW_LINK,
        CAREPULSE_DB=db_path.name,
        DBT_PROFILES_DIR=str(PROJECT_DIR),
        CAREPULSE_THREADS="2",
    )
    env.pop("CAREPULSE_AS_OF", None)
    if as_of:
        env["CAREPULSE_AS_OF"] = as_of
    vars_json = json.dumps(dict(dbt_vars), sort_keys=True) if dbt_vars else ""
    command = [DBT, *args]
    if "--project-dir" not in args:
        command += ["--project-dir", str(PROJECT_DIR)]
    if vars_json:
        command += ["--vars", vars_json]
    target = work / "target"
    command += ["--target-path", str(target), "--log-path", str(work / "logs")]
    key = _parse_key(args, db_path, as_of, vars_json)
    saved = target / "partial_parse.msgpack"
    if key in _PARSE_CACHE and not saved.exists():
        target.mkdir(exist_ok=True)
        shutil.copy2(_PARSE_CACHE[key], saved)
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    if key not in _PARSE_CACHE and saved.exists():
        keep = Path(tempfile.mkdtemp(prefix="dbt_parse_")) / saved.name
        shutil.copy2(saved, keep)
        _PARSE_CACHE[key] = keep
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
    """Run one query read-only and close the connection (DuckDB allows one writer).

    From the database's folder: its raw views read RAW_LINK there (see run_dbt)."""
    with contextlib.chdir(db_path.parent):
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


def _session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder shared by every process of this test run: under pytest-xdist each worker
    has its own base temp folder inside the run's folder, which is the shared one."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name` of the run, filled by make(folder) exactly once for all workers.

    Why: the session warehouses take most of a minute each; with `pytest -n 2` the first
    worker to ask builds while the other waits on the lock, then both read the same files
    (tests never write to them: they copy first). A failed make leaves no mark, so the
    next caller tries again and sees the same error.
    """
    root = _session_root(tmp_path_factory)
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


#: The session's generated data: small enough for seconds-long builds, large enough for the
#: ML step (thousands of labelled periods and calls), and dirty: every quarantine rule has
#: rows (1% extra bad rows, at least one per rule and table; the providers' share stays
#: under the 5% error gate at this scale), so every read-only test also sees the quarantine.
SESSION_SCALE = 0.02
SESSION_SEED = 23
SESSION_DIRTY_RATE = 0.01


@dataclass(frozen=True)
class SessionBuild:
    """The shared warehouse: plain `dbt build` of the session data, as a user runs it."""

    raw: Path
    db: Path
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated raw files (SESSION_*), shared by the whole session (read-only use); the
    generator's ground truth is in ../ground_truth."""
    from carepulse.generate import generate

    def make(folder: Path) -> None:
        generate(
            scale=SESSION_SCALE, seed=SESSION_SEED, out=folder / "raw", fmt="parquet", dirty_rate=SESSION_DIRTY_RATE
        )

    return build_once(tmp_path_factory, "small", make) / "raw"


@pytest.fixture(scope="session")
def small_build(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> SessionBuild:
    """`dbt build` of small_raw into a fresh database. Not checked here: tests that need the
    warehouse use small_warehouse (which is); test_ml reports the plain build's outcome."""

    def make(folder: Path) -> None:
        result = run_dbt(["build"], small_raw, folder / "carepulse.duckdb", check=False)
        outcome = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
        (folder / "result.json").write_text(json.dumps(outcome))
        parse = folder / "target" / "partial_parse.msgpack"
        if parse.exists():  # kept apart: later runs in this folder may rewrite target/
            shutil.copy2(parse, folder / "partial_parse.msgpack")

    folder = build_once(tmp_path_factory, "small_wh", make)
    db_path = folder / "carepulse.duckdb"
    outcome = json.loads((folder / "result.json").read_text())
    saved = folder / "partial_parse.msgpack"
    if saved.exists():  # the other workers start from the build's parse too
        _PARSE_CACHE.setdefault(_parse_key(["build"], db_path, None, ""), saved)
    result = subprocess.CompletedProcess(["dbt", "build"], outcome["returncode"], outcome["stdout"], outcome["stderr"])
    return SessionBuild(small_raw, db_path, result)


@pytest.fixture(scope="session")
def small_warehouse(small_build: SessionBuild) -> Path:
    """The session warehouse (dbt only, no ML tables); tests only read it."""
    result = small_build.result
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return small_build.db


#: The tests' ML step: the production recipe, candidates and selection rule with smaller
#: forests and boosting and one importance repeat (seconds instead of minutes), one seed.
TEST_TRAIN_SETTINGS = {"rf_trees": 30, "hgb_max_iter": 80, "importance_repeats": 1}
TEST_TRAIN_SEED = 23


def run_ml_step(db_path: Path, raw_dir: Path, model_dir: Path, dbt_args: Sequence[str] = ()) -> Path:
    """The ML step of `carepulse build` on a dbt-built warehouse (TEST_TRAIN_*): train,
    score, then the post-ML models (dbt_args added to that dbt build, e.g. --project-dir)."""
    from ml.config import TrainConfig
    from ml.score import score
    from ml.train import train

    config = TrainConfig(**TEST_TRAIN_SETTINGS)
    train(db_path, model_dir, seed=TEST_TRAIN_SEED, config=config, progress=lambda _message: None)
    score(db_path, model_dir, progress=lambda _message: None)
    run_dbt(["build", "--selector", "post_ml", *dbt_args], raw_dir, db_path)
    return db_path


@pytest.fixture(scope="session")
def ml_session_warehouse(small_raw: Path, small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session warehouse after the ML step (run_ml_step; models in ./models)
    and the post-ML models; tests only read it (or copy it first)."""

    def make(folder: Path) -> None:
        db = folder / small_warehouse.name
        shutil.copy2(small_warehouse, db)
        run_ml_step(db, small_raw, folder / "models")

    return build_once(tmp_path_factory, "ml_session", make) / small_warehouse.name
