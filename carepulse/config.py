"""Settings read from environment variables, shared by the CLI, profiles.yml and dbt vars.

One place decides the defaults so that `dbt build` run by hand and `carepulse build`
always agree on which raw folder and which DuckDB file they mean.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

RAW_TABLES: tuple[str, ...] = (
    "patients",
    "engagement_events",
    "care_journey_stages",
    "outreach_calls",
    "providers",
    "claims",
)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one run."""

    raw_dir: Path
    db_path: Path
    as_of: str | None
    memory_limit: str
    threads: int

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            raw_dir=Path(env.get("CAREPULSE_RAW_DIR", "data/raw")),
            db_path=Path(env.get("CAREPULSE_DB", "warehouse/carepulse.duckdb")),
            as_of=env.get("CAREPULSE_AS_OF") or None,
            memory_limit=env.get("CAREPULSE_MEMORY_LIMIT", "4GB"),
            threads=int(env.get("CAREPULSE_THREADS", "2")),
        )

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess: these settings, made absolute."""
        env = dict(os.environ)
        env["CAREPULSE_RAW_DIR"] = str(self.raw_dir.resolve())
        env["CAREPULSE_DB"] = str(self.db_path.resolve())
        env["CAREPULSE_MEMORY_LIMIT"] = self.memory_limit
        env["CAREPULSE_THREADS"] = str(self.threads)
        if self.as_of:
            env["CAREPULSE_AS_OF"] = self.as_of
        env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
        return env


def raw_files_present(raw_dir: Path) -> bool:
    """True when every contract table has a parquet or csv file in raw_dir."""
    return all(
        (raw_dir / f"{table}.parquet").exists() or (raw_dir / f"{table}.csv").exists()
        for table in RAW_TABLES
    )
