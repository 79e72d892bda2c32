"""One settings object: every entry point resolves paths alike, bad values are refused up front.

No dbt here: these run in seconds. The end-to-end proof that `python -m ml score` finds what
`carepulse build` trained is in test_build_e2e.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from carepulse.build_lock import build_lock, private_build_path, stale_build_files
from carepulse.config import PROJECT_DIR, Settings, SettingsError


def _carepulse(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carepulse", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )


def test_model_and_report_folders_default_beside_the_warehouse(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "wh.duckdb"
    settings = Settings.from_env({"CAREPULSE_DB": str(db)})
    assert settings.model_dir == db.parent / "models"
    assert settings.report_dir == db.parent / "reports"
    # a flag wins over the variable, and the derived defaults follow the flag
    other = tmp_path / "other.duckdb"
    flagged = Settings.from_env({"CAREPULSE_DB": str(db)}, db_path=other)
    assert (flagged.db_path, flagged.model_dir) == (other, tmp_path / "models")
    explicit = Settings.from_env({"CAREPULSE_DB": str(db), "CAREPULSE_MODEL_DIR": str(tmp_path / "m")})
    assert explicit.model_dir == tmp_path / "m"
    # defaults live under the project, where a plain `dbt build` (profiles.yml) looks
    assert Settings.from_env({}).db_path == PROJECT_DIR / "warehouse" / "carepulse.duckdb"


def test_dbt_sees_the_resolved_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CAREPULSE_AS_OF": "2025-06-30", "CAREPULSE_THREADS": "3"}, raw_dir=tmp_path / "raw", memory_limit="1GB"
    )
    env = settings.dbt_env(tmp_path / ".private")
    assert env["CAREPULSE_DB"] == str(tmp_path / ".private")
    assert env["CAREPULSE_RAW_DIR"] == str(tmp_path / "raw")
    assert (env["CAREPULSE_AS_OF"], env["CAREPULSE_THREADS"], env["CAREPULSE_MEMORY_LIMIT"]) == (
        "2025-06-30",
        "3",
        "1GB",
    )
    assert "CAREPULSE_AS_OF" not in Settings.from_env({}).dbt_env()
    # dbt's artifacts per warehouse: two builds of different warehouses never share them
    other = Settings.from_env({"CAREPULSE_DB": str(tmp_path / "b.duckdb")})
    if "DBT_TARGET_PATH" not in os.environ:
        assert env["DBT_TARGET_PATH"] != other.dbt_env()["DBT_TARGET_PATH"]
        assert Path(env["DBT_LOG_PATH"]).parent == settings.dbt_dir


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CAREPULSE_AS_OF", "2025-02-30"),
        ("CAREPULSE_AS_OF", "yesterday"),
        ("CAREPULSE_AS_OF", "2025-01-01'); select 1; --"),
        ("CAREPULSE_THREADS", "0"),
        ("CAREPULSE_THREADS", "two"),
        ("CAREPULSE_ML_THREADS", "-1"),
        ("CAREPULSE_MEMORY_LIMIT", "4GB'; copy (select 1) to 'x.csv"),
        ("CAREPULSE_TARGET", "oracle"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_cli_refuses_a_bad_setting_before_any_work(tmp_path: Path) -> None:
    env = dict(os.environ, CAREPULSE_DB=str(tmp_path / "wh.duckdb"), CAREPULSE_RAW_DIR=str(tmp_path / "raw"))
    for variable, value in (("CAREPULSE_AS_OF", "2025-13-01"), ("CAREPULSE_THREADS", "many")):
        result = _carepulse("build", env={**env, variable: value})
        assert result.returncode == 1
        assert variable in result.stderr and "Traceback" not in result.stderr
    result = _carepulse("build", "--threads", "0", env=env)
    assert result.returncode == 1 and "--threads" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no lock, no raw data, no warehouse


def test_lock_refuses_a_second_holder_naming_the_owner(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    messages: list[str] = []
    with build_lock(db, wait=False, say=messages.append):
        # a second holder in another process: flock is per open file, so use a child
        probe = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "import sys; from pathlib import Path; from carepulse.build_lock import build_lock, BuildBusy\n"
                    "try:\n    build_lock(Path(sys.argv[1]), wait=False, say=print).__enter__()\n"
                    "except BuildBusy as e:\n    print(e); sys.exit(3)\n"
                ),
                str(db),
            ],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
        )
        assert probe.returncode == 3, probe.stderr
        assert f"PID {os.getpid()}" in probe.stdout
    assert messages == []
    with build_lock(db, wait=False, say=messages.append):  # released on exit: free again
        pass


def test_only_files_of_dead_owners_are_stale(tmp_path: Path) -> None:
    db = tmp_path / "we'ird\"name.duckdb"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    mine = private_build_path(db)
    other_live = private_build_path(db, pid=os.getppid())
    gone = private_build_path(db, pid=dead_pid)
    for path in (mine, other_live, gone, gone.with_name(gone.name + ".wal"), db):
        path.parent.mkdir(exist_ok=True)
        path.write_text("x")
    assert "'" not in mine.name and '"' not in mine.name  # dbt-duckdb pastes the catalog name unquoted
    assert mine != private_build_path(db)  # unique per build, even in one process
    # the same file name in every private folder: dbt's profile (and saved parse) stays the same
    assert mine.name == gone.name and mine.parent != gone.parent
    assert stale_build_files(db) == [gone.parent]


def test_dbt_threads_keep_working_after_duckdb_spilled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spill pins DuckDB's temp directory; setting it again on a later cursor (dbt-duckdb
    applies `settings` to every thread's cursor) then fails with "Cannot switch temporary
    directory" even for the same value: the scale-10 build failed so. The committed profile
    sets it once, when the database opens (`config_options`)."""
    from dbt.adapters.duckdb.environments import create
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    db, spill = tmp_path / "wh.duckdb", tmp_path / "spill"
    monkeypatch.setenv("CAREPULSE_DB", str(db))
    monkeypatch.setenv("CAREPULSE_TEMP_DIR", str(spill))
    monkeypatch.setenv("CAREPULSE_MEMORY_LIMIT", "64MB")
    set_invocation_context(os.environ)
    set_from_args(argparse.Namespace(), None)  # dbt's defaults, as a dbt command would set them
    profile = Profile.from_raw_profiles(read_profile(str(PROJECT_DIR)), "carepulse", ProfileRenderer({}), "dev")
    environment = create(profile.credentials)
    first = environment.handle().cursor()
    first.execute("create table wide as select range as i, md5(cast(range as varchar)) as s from range(2000000)")
    first.execute("create table sorted as select * from wide order by s")
    assert any(spill.iterdir()), "the sort did not spill: the test proves nothing"
    second = environment.handle().cursor()  # what the next dbt thread gets
    assert second.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill)
    assert second.execute("select count(*) from sorted").fetchone()[0] == 2_000_000


def test_ml_and_report_connections_take_the_run_memory_limit_and_spill_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ML step and the report open the warehouse with CAREPULSE_MEMORY_LIMIT and
    CAREPULSE_TEMP_DIR, as dbt's profile does: DuckDB's own default (80% of RAM) would let a
    scale-10 score or report step grow past the limit the user set for the run."""
    from ml.warehouse import open_connection

    spill = tmp_path / "spill"
    monkeypatch.setenv("CAREPULSE_TARGET", "duckdb")
    monkeypatch.setenv("CAREPULSE_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("CAREPULSE_TEMP_DIR", str(spill))
    db = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(db)).close()
    reference = duckdb.connect(config={"memory_limit": "300MB"})
    expected_limit = reference.execute("select current_setting('memory_limit')").fetchone()[0]
    reference.close()

    con = open_connection(db, read_only=True)
    try:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
        temp_directory = con.execute("select current_setting('temp_directory')").fetchone()[0]
    finally:
        con.close()
    assert limit == expected_limit
    assert Path(temp_directory) == spill
