"""One settings object, resolved once from environment variables and command-line flags.

Why one place: `dbt build` run by hand (profiles.yml reads the same variables),
`carepulse build`, `python -m ml`, the report, export and the benchmark must all mean the
same raw folder, warehouse file, model folder and report folder. Every derived default
(model and report folders beside the warehouse) is computed here after the overrides are
applied, so `python -m ml score --db X` finds the models `carepulse build` trained for X.
Bad values are refused here, before any work starts, with a message naming the variable
or flag, instead of surfacing later as a dbt compilation error or a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
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

#: dbt targets the project can build: DuckDB (profile output `dev`) and Spark through
#: dbt-spark (output `spark`, optional extra `.[spark]`; README "Outgrowing one machine").
TARGETS: tuple[str, ...] = ("duckdb", "spark")

#: DuckDB memory_limit when neither CAREPULSE_MEMORY_LIMIT nor --memory-limit is given (profiles.yml
#: has the same default for a bare `dbt build`).
DEFAULT_MEMORY_LIMIT = "3GB"

#: DuckDB memory_limit values: a number with a byte unit, or a share of RAM ("80%").
_MEMORY_LIMIT = re.compile(
    r"^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|k|m|g|t)\s*$|^\s*\d+(\.\d+)?\s*%\s*$", re.IGNORECASE
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SettingsError(ValueError):
    """A setting has a value the project cannot use; the message names the variable or flag."""


@dataclass(frozen=True)
class _Source:
    """Where a setting comes from: its environment variable and its command-line flag."""

    env: str
    flag: str


_SOURCES: dict[str, _Source] = {
    "raw_dir": _Source("CAREPULSE_RAW_DIR", "--raw-dir"),
    "db_path": _Source("CAREPULSE_DB", "--db"),
    "model_dir": _Source("CAREPULSE_MODEL_DIR", "--model-dir"),
    "report_dir": _Source("CAREPULSE_REPORT_DIR", "--report-dir"),
    "temp_dir": _Source("CAREPULSE_TEMP_DIR", "--temp-dir"),
    "as_of": _Source("CAREPULSE_AS_OF", "--as-of"),
    "memory_limit": _Source("CAREPULSE_MEMORY_LIMIT", "--memory-limit"),
    "threads": _Source("CAREPULSE_THREADS", "--threads"),
    "ml_threads": _Source("CAREPULSE_ML_THREADS", "--ml-threads"),
    "target": _Source("CAREPULSE_TARGET", "--target"),
}


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one run; every path is absolute."""

    raw_dir: Path
    db_path: Path
    #: Fitted models (joblib, one per run id); default <db dir>/models.
    model_dir: Path
    #: index.html and figures/; default <db dir>/reports, so two warehouses never share a report.
    report_dir: Path
    #: DuckDB spill folder; None keeps DuckDB's default (<database file>.tmp).
    temp_dir: Path | None
    #: Analysis date (ISO); None: the latest activity date in the data.
    as_of: str | None
    memory_limit: str
    threads: int
    ml_threads: int
    target: str = "duckdb"

    @property
    def dbt_dir(self) -> Path:
        """dbt's target/ and logs/ for builds of this warehouse, hidden beside it.

        Why not the project's target/: two builds of different warehouses at once would
        write the same manifest and partial-parse files; builds of one warehouse never run
        at once (the build lock), so one folder per warehouse keeps partial parsing warm.
        """
        return self.db_path.with_name(f".{self.db_path.name}.dbt")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `env` (default os.environ), with non-None overrides (CLI flags) winning.

        Relative paths given by the user are taken from the current directory; the built-in
        defaults live under the project, where a plain `dbt build` looks for them.
        """
        unknown = set(overrides) - set(_SOURCES)
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        env = os.environ if env is None else env

        def given(name: str) -> tuple[object | None, str]:
            """The value and the name to blame for it: the flag when set, else the variable."""
            if overrides.get(name) is not None:
                return overrides[name], _SOURCES[name].flag
            value = env.get(_SOURCES[name].env)
            return (value if value not in (None, "") else None), _SOURCES[name].env

        def path(name: str, default: Path | None) -> Path | None:
            value, _ = given(name)
            return Path(str(value)).expanduser().absolute() if value is not None else default

        db_path = path("db_path", PROJECT_DIR / "warehouse" / "carepulse.duckdb")
        return cls(
            raw_dir=path("raw_dir", PROJECT_DIR / "data" / "raw"),
            db_path=db_path,
            model_dir=path("model_dir", db_path.parent / "models"),
            report_dir=path("report_dir", db_path.parent / "reports"),
            temp_dir=path("temp_dir", None),
            as_of=_iso_date(*given("as_of")),
            memory_limit=_memory_limit(*given("memory_limit")),
            threads=_positive_int(*given("threads"), default=2),
            ml_threads=_positive_int(*given("ml_threads"), default=1),
            target=_target(*given("target")),
        )

    def dbt_env(self, db_path: Path | None = None) -> dict[str, str]:
        """Environment for a dbt subprocess: these settings (db_path: a private build file)."""
        env = dict(os.environ)
        env["CAREPULSE_RAW_DIR"] = str(self.raw_dir)
        env["CAREPULSE_DB"] = str((db_path or self.db_path).absolute())
        env["CAREPULSE_MEMORY_LIMIT"] = self.memory_limit
        env["CAREPULSE_THREADS"] = str(self.threads)
        env["CAREPULSE_ML_THREADS"] = str(self.ml_threads)
        env["CAREPULSE_TARGET"] = self.target
        for name, value in (("CAREPULSE_AS_OF", self.as_of), ("CAREPULSE_TEMP_DIR", self.temp_dir)):
            if value is None:
                env.pop(name, None)
            else:
                env[name] = str(value)
        if self.target == "spark":
            # local Spark's tables and metastore beside the DuckDB file's place, as an absolute
            # path (dbt, the ML step and the report must name the same folder)
            env.setdefault("CAREPULSE_SPARK_WAREHOUSE", str(self.db_path.parent.absolute() / "spark"))
        env.setdefault("DBT_PROFILES_DIR", str(PROJECT_DIR))
        env.setdefault("DBT_TARGET_PATH", str(self.dbt_dir / "target"))
        env.setdefault("DBT_LOG_PATH", str(self.dbt_dir / "logs"))
        return env


def _iso_date(value: object | None, source: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    try:
        if not _ISO_DATE.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise SettingsError(f"{source} must be a date as YYYY-MM-DD, got {text!r}") from None


def _positive_int(value: object | None, source: str, default: int) -> int:
    if value is None:
        return default
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:
        raise SettingsError(f"{source} must be a whole number of at least 1, got {text!r}")
    return int(text)


def _memory_limit(value: object | None, source: str) -> str:
    if value is None:
        return DEFAULT_MEMORY_LIMIT
    text = str(value).strip()
    if not _MEMORY_LIMIT.match(text):
        raise SettingsError(f"{source} must be a size such as 4GB, 512MB or 80%, got {text!r}")
    return text


def _target(value: object | None, source: str) -> str:
    text = "duckdb" if value is None else str(value).strip()
    if text not in TARGETS:
        raise SettingsError(f"{source} must be one of {', '.join(TARGETS)}, got {text!r}")
    return text


def raw_table_present(raw_dir: Path, table: str) -> bool:
    """True when a contract table has a parquet or csv file, or a folder of such files, in raw_dir."""
    if (raw_dir / f"{table}.parquet").exists() or (raw_dir / f"{table}.csv").exists():
        return True
    folder = raw_dir / table
    return folder.is_dir() and (any(folder.glob("*.parquet")) or any(folder.glob("*.csv")))


def raw_files_present(raw_dir: Path) -> bool:
    """True when every contract table has a parquet or csv file (or a folder of them) in raw_dir."""
    return all(raw_table_present(raw_dir, table) for table in RAW_TABLES)
