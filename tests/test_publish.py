"""The build publishes atomically: readers are never blocked and never see a partial build.

Real processes: a reader holds the warehouse open read-only and queries in a loop while
`carepulse build` runs, fails, and succeeds again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
from conftest import PROJECT_DIR, query, write_raw_tables
from test_foundation import minimal_raw_tables

READER = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    import os
    db, out, stop, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    answers, errors = [], []
    # "hold": a BI tool that keeps one connection all day; "reconnect": a fresh connection per query.
    # (DuckDB shares one database instance per file within a process, so the two run apart.)
    held = duckdb.connect(db, read_only=True) if mode == "hold" else None
    deadline = time.time() + 600
    while time.time() < deadline and not os.path.exists(stop):
        for con in [held]:
            try:
                c = con or duckdb.connect(db, read_only=True)
                patients = c.execute("select count(*) from intermediate.int_patients_accepted").fetchone()[0]
                read = c.execute(
                    "select rows_accepted from audit.audit_reconciliation where source_table = 'patients'"
                ).fetchone()[0]
                answers.append([patients, read])
                if con is None:
                    c.close()
            except Exception as error:  # every query must answer
                errors.append(repr(error))
        time.sleep(0.05)
    json.dump({"answers": answers, "errors": errors}, open(out, "w"))
    """
)


#: What the readers query, with everything upstream: publishing does not depend on how
#: much is built, and a whole build would only make the test slower.
READ_MODELS = ("+audit_reconciliation", "+int_patients_accepted")


def _build(raw: Path, db: Path, select: tuple[str, ...] = READ_MODELS) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CAREPULSE_RAW_DIR=str(raw), CAREPULSE_DB=str(db), DBT_PROFILES_DIR=str(PROJECT_DIR))
    env.pop("CAREPULSE_AS_OF", None)
    return subprocess.run(
        [sys.executable, "-m", "carepulse", "build", "--no-ml", "--no-report", "--select", *select],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def stop_readers(readers: dict[str, subprocess.Popen[bytes]], stop: Path, timeout: float) -> None:
    """Tell the reader processes to finish and wait for them."""
    stop.touch()
    for reader in readers.values():
        reader.wait(timeout=timeout)


def reader_results(readers: dict[str, subprocess.Popen[bytes]], out: Path, min_answers: int) -> dict[str, dict]:
    """What each reader wrote to out/<mode>.json, checked for what holds for every reader: no
    query failed, it answered often, and every answer comes from one complete build (the mart
    and the reconciliation agree)."""
    results = {mode: json.loads((out / f"{mode}.json").read_text()) for mode in readers}
    for mode, result in results.items():
        assert result["errors"] == [], mode
        assert len(result["answers"]) > min_answers, mode
        assert all(patients == accepted for patients, accepted in result["answers"]), mode
    return results


def test_unchanged_rebuild_is_a_no_op_and_readers_see_only_complete_builds(tmp_path: Path) -> None:
    raw = write_raw_tables(tmp_path / "raw", minimal_raw_tables())
    db = tmp_path / "warehouse" / "carepulse.duckdb"
    first = _build(raw, db)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert query(db, "select count(*) as n from intermediate.int_patients_accepted").n[0] == 2

    # Nothing changed: the second run does nothing and says so.
    stamp = db.stat().st_mtime_ns
    again = _build(raw, db)
    assert again.returncode == 0
    assert "up to date" in again.stdout and "dbt build" not in again.stdout
    assert db.stat().st_mtime_ns == stamp

    script = tmp_path / "reader.py"
    script.write_text(READER)
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen([sys.executable, str(script), str(db), str(tmp_path / f"{mode}.json"), str(stop), mode])
        for mode in ("hold", "reconnect")
    }
    try:
        time.sleep(2)
        # A failing build: a required column is gone. The published warehouse must stay as it was.
        broken = minimal_raw_tables()
        broken["patients"] = broken["patients"].drop(columns=["sex"])
        write_raw_tables(raw, broken)
        failed = _build(raw, db)
        assert failed.returncode != 0
        assert "failed" in failed.stderr and "sex" in failed.stdout
        assert query(db, "select count(*) as n from intermediate.int_patients_accepted").n[0] == 2

        # A succeeding build with a third patient: new connections see it once published.
        grown = minimal_raw_tables()
        extra = grown["patients"].iloc[[0]].assign(patient_id="P3", email="p3@example.invalid")
        grown["patients"] = pd.concat([grown["patients"], extra], ignore_index=True)
        write_raw_tables(raw, grown)
        second = _build(raw, db)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert query(db, "select count(*) as n from intermediate.int_patients_accepted").n[0] == 3
        time.sleep(2)
    finally:
        stop_readers(readers, stop, timeout=60)

    results = reader_results(readers, tmp_path, min_answers=10)
    for result in results.values():
        assert {patients for patients, _ in result["answers"]} <= {2, 3}
    assert {patients for patients, _ in results["hold"]["answers"]} == {2}  # its snapshot stays whole
    assert [3, 3] in results["reconnect"]["answers"]  # new connections see the new build
