"""Run dbt as a subprocess from the project root (DuckDB), or in this process (Spark).

A subprocess on DuckDB, not dbtRunner in-process: dbt-duckdb keeps its DuckDB connection
open for the life of the process (upstream dbt-duckdb issue 616), and the ML step and the
report must open the same file right after. On Spark it is the other way round: the local
session's embedded Derby metastore can be open in one JVM at a time, so dbt, the ML step and
the report share the one SparkSession of this process (run_dbt_in_process).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from carepulse.config import PROJECT_DIR, Settings
from carepulse.raw_csv_check import unreadable_lines


class StepFailed(RuntimeError):
    """A pipeline step failed; the message says which and why, in plain words."""


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's virtualenv)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: Sequence[str],
    settings: Settings,
    db_path: Path | None = None,
    dbt_vars: Mapping[str, Any] | None = None,
    quiet: bool = False,
    pass_fds: Sequence[int] = (),
) -> None:
    """Run `dbt <args>` against settings (db_path overrides the target file); raise StepFailed.

    pass_fds: descriptors dbt inherits (the build lock, so it outlives a killed parent).
    """
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR)]
    if settings.target == "spark":
        command += ["--target", "spark"]  # profiles.yml output `spark` (dbt-spark)
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    # From the database's folder with its bare name: the path is part of the profile, and a
    # profile that differs from the saved parse's makes dbt re-parse the whole project
    # (10-15 s); a build's private file has the same name every build (carepulse.build_lock).
    db = (db_path or settings.db_path).absolute()
    db.parent.mkdir(parents=True, exist_ok=True)
    env = settings.dbt_env(db)
    env["CAREPULSE_DB"] = db.name
    result = subprocess.run(
        command,
        cwd=db.parent,
        env=env,
        text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        pass_fds=tuple(pass_fds),
    )
    if result.returncode != 0:
        detail = (result.stdout or "")[-4000:] if quiet else "see the dbt output above"
        raise StepFailed(f"dbt {' '.join(args)} failed (exit {result.returncode}); {detail}{_raw_csv_hint(settings)}")


def _raw_csv_hint(settings: Settings) -> str:
    """After a failed dbt step: the raw CSV lines DuckDB's reader cannot read past, if any
    (its own error names the file only; carepulse.raw_csv_check finds the line)."""
    if not settings.raw_dir.is_dir():
        return ""
    return "".join(f"\n{problem.message()}" for problem in unreadable_lines(settings.raw_dir))


def run_dbt_in_process(args: Sequence[str], settings: Settings, dbt_vars: Mapping[str, Any] | None = None) -> None:
    """Run `dbt <args> --target spark` in this process (dbtRunner); raise StepFailed.

    Why: dbt-spark's session method starts pyspark in the dbt process; in this process the
    ML step and the report then reuse that SparkSession (getOrCreate) and its metastore
    instead of starting a second JVM that the metastore would refuse. The settings reach the
    profile through the environment, as they reach a subprocess."""
    from dbt.cli.main import dbtRunner

    command = [*args, "--target", "spark", "--project-dir", str(PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    os.environ.update(settings.dbt_env())
    with contextlib.chdir(PROJECT_DIR):
        result = dbtRunner().invoke(command)
    if not result.success:
        detail = (
            f"{type(result.exception).__name__}: {result.exception}" if result.exception else "see the dbt output above"
        )
        raise StepFailed(f"dbt {' '.join(args)} --target spark failed; {detail}")
