"""Two builds of one warehouse at once, and a build killed with -9 (issue 11, defect 1).

Real `carepulse build` processes on the smallest raw set. Before the build lock, a second
build deleted the first one's private file and both failed with a raw DuckDB lock
traceback. The warehouse name holds `'` and `"` (issue 11, defect 3): builds, export and
report must work with it, though dbt-duckdb pastes the catalog name into SQL unquoted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT_DIR, query, write_raw_tables
from test_foundation import minimal_raw_tables

from carepulse.build_lock import private_build_path

NAME = "we'ird\"name.duckdb"
ARGS = ("build", "--no-ml", "--no-report")
#: Builds whose content nothing reads beyond these models (a whole build proves nothing more
#: about locking): the second, waiting build and the killed one.
PARTIAL = (*ARGS, "--select", "+audit_reconciliation", "+int_patients_accepted")


def _env(raw: Path, db: Path) -> dict[str, str]:
    env = dict(os.environ, CAREPULSE_RAW_DIR=str(raw), CAREPULSE_DB=str(db), CAREPULSE_THREADS="1")
    env.pop("CAREPULSE_AS_OF", None)
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "carepulse", *args],
        cwd=PROJECT_DIR,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition, what: str, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _private_files(db: Path) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir() if ".building" in p.name)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_raw_tables(tmp_path_factory.mktemp("lock") / "raw", minimal_raw_tables())


def test_a_second_build_waits_or_refuses_and_both_builds_succeed(raw: Path, tmp_path: Path) -> None:
    db = tmp_path / "wh" / NAME
    env = _env(raw, db)
    first = _start(env, *ARGS, "--force")
    _wait_for(lambda: db.parent.exists() and _private_files(db), "the first build's private file")

    refused = subprocess.run(
        [sys.executable, "-m", "carepulse", *ARGS, "--force", "--no-wait"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Before the lock, this one started at once, deleted the first one's private file and
    # both failed. --force: once the first has published, it builds again.
    second = _start(env, *PARTIAL, "--force")
    first_out, first_err = first.communicate(timeout=900)
    second_out, second_err = second.communicate(timeout=900)

    assert first.returncode == 0, first_out[-3000:] + first_err[-3000:]
    assert second.returncode == 0, second_out[-3000:] + second_err[-3000:]
    assert f"waiting for build PID {first.pid} to finish" in second_out
    assert "published" in second_out and "up to date" not in second_out
    assert refused.returncode == 1, refused.stderr
    assert f"another build (PID {first.pid})" in refused.stderr and "Traceback" not in refused.stderr
    assert _private_files(db) == []
    assert query(db, "select count(*) as n from intermediate.int_patients_accepted").n[0] == 2

    # export and report on the warehouse whose name holds both quote characters
    exported = subprocess.run(
        [sys.executable, "-m", "carepulse", "export", "--out-dir", str(tmp_path / "out")],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out" / "marts" / "dim_patients.parquet").exists()
    report = subprocess.run(
        [sys.executable, "-m", "carepulse", "report"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    assert (db.parent / "reports" / "index.html").exists()  # beside the warehouse


def test_a_killed_build_leaves_files_that_the_next_build_removes(raw: Path, tmp_path: Path) -> None:
    """kill -9 of the CLI alone: its dbt runs on, writing the private file, and keeps the
    inherited lock, so the next build waits for it before removing anything."""
    db = tmp_path / "wh" / NAME
    env = _env(raw, db)
    with open(tmp_path / "killed.log", "w") as log:  # a file, not a pipe: the orphan dbt writes on
        killed = subprocess.Popen(
            [sys.executable, "-m", "carepulse", *PARTIAL], cwd=PROJECT_DIR, env=env, stdout=log, stderr=log
        )
    _wait_for(
        lambda: db.parent.exists() and any(f"-{killed.pid}-" in n for n in _private_files(db)),
        "the build's private file",
    )
    time.sleep(3)  # let dbt write into it
    os.kill(killed.pid, signal.SIGKILL)  # the CLI only; its dbt child is orphaned
    killed.wait(timeout=60)
    # the database file itself (its .wal and .tmp may come and go while the orphan runs)
    leftovers = [n for n in _private_files(db) if f"-{killed.pid}-" in n and not n.endswith((".wal", ".tmp"))]
    assert leftovers, "kill -9 left no private file: the test proves nothing"
    # a private file whose owner still runs (this test) is never touched
    in_use = private_build_path(db)
    in_use.parent.mkdir()
    in_use.write_text("in use")

    refused = subprocess.run(
        [sys.executable, "-m", "carepulse", *ARGS, "--no-wait"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"PID {killed.pid} (killed; a dbt process it started still runs)" in refused.stderr

    # The next build waits for the orphan, then cleans up right after taking the lock; an
    # incomplete raw folder then stops it at once, which keeps this test short.
    incomplete = write_raw_tables(tmp_path / "incomplete", {"patients": minimal_raw_tables()["patients"]})
    after = subprocess.run(
        [sys.executable, "-m", "carepulse", *ARGS],
        cwd=PROJECT_DIR,
        env=_env(incomplete, db),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert after.returncode == 1 and "incomplete" in after.stderr, after.stdout + after.stderr
    assert f"waiting for build PID {killed.pid} (killed" in after.stdout
    for name in leftovers:
        assert f"removing {name}" in after.stdout
    assert _private_files(db) == [in_use.parent.name]
    assert not db.exists()  # nothing was published by the killed build
