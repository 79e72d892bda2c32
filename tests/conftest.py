"""Shared pytest fixtures: real dbt runs against real DuckDB files on small data.

dbt runs in a subprocess (dbt-duckdb keeps its connection open in-process, so the same
process could not reopen the file afterwards; see upstream dbt-duckdb issue 616).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
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
#: Where those are kept for every process of the run (set by _shared_parses): a full parse
#: is 10-15 s, and without it each pytest-xdist worker made its own for a key both use.
_PARSE_FOLDER: list[Path] = []


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
    kept = _kept_parse(key)
    if kept is not None and not saved.exists():
        target.mkdir(exist_ok=True)
        shutil.copy2(kept, saved)
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    if kept is None and saved.exists():
        _keep_parse(key, saved)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return result


def _shared_parse(key: tuple[str, ...]) -> Path:
    """The file in the run's parse folder that holds the saved parse for `key`."""
    return _PARSE_FOLDER[0] / f"{hashlib.sha256(repr(key).encode()).hexdigest()}.msgpack"


def _kept_parse(key: tuple[str, ...]) -> Path | None:
    """The saved parse for `key`: this process's, else one another process of the run kept."""
    if key not in _PARSE_CACHE and _PARSE_FOLDER:
        shared = _shared_parse(key)
        if shared.exists():
            _PARSE_CACHE[key] = shared
    return _PARSE_CACHE.get(key)


def _keep_parse(key: tuple[str, ...], saved: Path) -> None:
    """Keep a run's saved parse as the one for `key` (atomically: other processes may read it)."""
    if _PARSE_FOLDER:
        keep = _shared_parse(key)
        partial = keep.with_suffix(f".{os.getpid()}.partial")
        shutil.copy2(saved, partial)
        os.replace(partial, keep)
    else:
        keep = Path(tempfile.mkdtemp(prefix="dbt_parse_")) / saved.name
        shutil.copy2(saved, keep)
    _PARSE_CACHE[key] = keep


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
    return _build_once_in(_session_root(tmp_path_factory), name, make)


def _build_once_in(root: Path, name: str, make: Callable[[Path], None]) -> Path:
    """build_once in the run's folder `root` (also called by the pytest-xdist controller)."""
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session", autouse=True)
def _shared_parses(tmp_path_factory: pytest.TempPathFactory) -> None:
    """run_dbt's saved parses in the run's folder, shared by its processes (_PARSE_FOLDER)."""
    folder = _session_root(tmp_path_factory) / "dbt_parse"
    folder.mkdir(exist_ok=True)
    _PARSE_FOLDER[:] = [folder]


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
    return build_once(tmp_path_factory, "small", _generate_small) / "raw"


def _generate_small(folder: Path) -> None:
    from carepulse.generate import generate

    generate(scale=SESSION_SCALE, seed=SESSION_SEED, out=folder / "raw", fmt="parquet", dirty_rate=SESSION_DIRTY_RATE)


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


# --------------------------------------------------------------------------- the Spark side
#: tests/test_spark.py's one test: its Spark side (tests/spark_side.py) builds small_raw on
#: Spark in a subprocess for minutes, mostly alone on a core, while the test only waits.
SPARK_TEST = "test_spark.py::"
SPARK_SIDE = "spark_side"


def spark_missing() -> str | None:
    """Why the Spark side cannot run on this machine (the test is skipped with it), or None."""
    if shutil.which("java") is None:
        return "Spark test skipped: no Java (make spark-setup installs openjdk-17-jre-headless)"
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "Spark test skipped: the spark extra is not installed (make spark-setup)"
    return None


@dataclass
class SparkSide:
    """The Spark side of the run, in <run folder>/spark_side: started once per run (its
    pid file says by whom), by the first process to ask; only that one holds `process`,
    waits for it and writes its exit code to `exit_code`, which any other process reads."""

    work: Path
    pid: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.work / "spark_side.log"

    @property
    def out(self) -> Path:
        return self.work / "out"

    def wait(self, timeout: float = 3600) -> int:
        """The Spark side's exit code, once it has ended."""
        code_file = self.work / "exit_code"
        if self.process is not None:
            code = self.process.wait(timeout=timeout)
            code_file.write_text(str(code))
            return code
        deadline = time.monotonic() + timeout
        while not code_file.exists():
            # its starter reaps it and writes the code at once: a pid gone for a second without a code is a crash
            if not Path(f"/proc/{self.pid}").exists():
                time.sleep(1)
                if not code_file.exists():
                    return -1
            assert time.monotonic() < deadline, f"the Spark side ran past {timeout} s"
            time.sleep(1)
        return int(code_file.read_text())

    def stop(self) -> None:
        """End the Spark side if this process started it and it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_spark_side(root: Path, raw: Path) -> SparkSide:
    """The run's Spark side (run folder `root`) on raw folder `raw`, started if nobody has.

    Small data: one dbt thread, one shuffle partition (a day-partitioned table then writes
    one file per day, not one per day and partition)."""
    work = root / SPARK_SIDE
    with open(root / f"{SPARK_SIDE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (work / "pid").exists():
            return SparkSide(work, int((work / "pid").read_text()))
        work.mkdir(parents=True, exist_ok=True)
        env = {name: value for name, value in os.environ.items() if not name.startswith("CAREPULSE_")}
        env.update(
            CAREPULSE_SPARK_WAREHOUSE=str(work / "spark"),
            CAREPULSE_SPARK_MASTER="local[2]",
            CAREPULSE_SPARK_SHUFFLE_PARTITIONS="1",
            CAREPULSE_THREADS="1",
            SPARK_LOCAL_IP="127.0.0.1",
        )
        with open(work / "spark_side.log", "w") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(PROJECT_DIR / "tests" / "spark_side.py"),
                    str(raw),
                    str(work),
                    str(work / "out"),
                ],
                cwd=work,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        (work / "pid").write_text(str(process.pid))
        return SparkSide(work, process.pid, process)


#: Whether this process starts the Spark side early (_spark_side_early), and the side it started.
_EARLY_SPARK: dict[str, Any] = {"claimed": False, "started": None}


def _start_spark_side_early(root: Path) -> None:
    """In a thread of the pytest process that hands out the tests: small_raw, then the Spark
    side, waited for here (its exit code for the test)."""
    side = start_spark_side(root, _build_once_in(root, "small", _generate_small) / "raw")
    if side.process is not None:
        _EARLY_SPARK["started"] = side
        side.wait()


def _spark_side_early(config: pytest.Config, ids: Sequence[str]) -> None:
    """Start the Spark side as the run starts when test_spark.py is among the tests to run.

    Why: pytest-xdist hands test_spark.py (one test) to a worker among the last files, and
    its Spark side then ran minutes alone at the end of the run with the other worker idle.
    Started here, it runs beside the other files; the test, when its turn comes, compares."""
    if _EARLY_SPARK["claimed"] or not any(SPARK_TEST in test_id for test_id in ids) or spark_missing():
        return
    _EARLY_SPARK["claimed"] = True
    root = config._tmp_path_factory.getbasetemp()  # the run's folder: pytest-xdist's workers' parent
    threading.Thread(target=_start_spark_side_early, args=(root,), daemon=True).start()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: Sequence[str]) -> None:
    """pytest-xdist's controller, when a worker has collected: see _spark_side_early."""
    _spark_side_early(node.config, ids)


def pytest_collection_finish(session: pytest.Session) -> None:
    """A run without pytest-xdist (-n 0): see _spark_side_early."""
    if not hasattr(session.config, "workerinput") and not session.config.pluginmanager.has_plugin("dsession"):
        _spark_side_early(session.config, [item.nodeid for item in session.items])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """No Spark side outlives the run that started it (e.g. when test_spark.py was not reached)."""
    if _EARLY_SPARK["started"] is not None:
        _EARLY_SPARK["started"].stop()
