"""Run dbt as a subprocess from the project root.

A subprocess, not dbtRunner in-process: dbt-duckdb keeps its DuckDB connection open for
the life of the process (upstream dbt-duckdb issue 616), and the ML step and the report
must open the same file right after.
"""

from __future__ import annotations

import json
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
