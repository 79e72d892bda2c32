"""One read-only SQLAlchemy path to the published warehouse, for BI tools and the explorer.

Why SQLAlchemy with duckdb-engine: it is the driver BI tools such as Superset use, so the
explorer reads the warehouse exactly the way a BI tool does and the URL documented in the
README is the one the tests exercise. Why read-only and no pool: `carepulse build` never
writes the published file, it renames a finished build over it. A reader that keeps a
connection open keeps its snapshot (DuckDB shares one database instance per file within a
process); one that opens a fresh read-only connection per batch of queries sees each new
build once it is published, and is never blocked by a build in progress.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from carepulse.dbt_runner import StepFailed

if TYPE_CHECKING:  # the extra is imported only when a connection is made
    import pandas as pd
    from sqlalchemy.engine import Connection, Engine

#: What to install when the extra is missing.
EXTRA_HINT = (
    "install the optional extra: .venv/bin/uv pip install -r requirements-app.lock (or pip install -e '.[app]')"
)


class ExtraMissing(StepFailed):
    """SQLAlchemy, duckdb-engine or Streamlit is not installed (the optional `.[app]` extra)."""


def warehouse_url(db_path: Path) -> str:
    """The SQLAlchemy URL of a warehouse file, read-only: `duckdb:///<absolute path>?access_mode=read_only`.

    The path is percent-encoded (a warehouse name may hold spaces, quotes or `?`), and
    `access_mode=read_only` is handed by duckdb-engine to DuckDB's own configuration, so a
    BI tool given this URL can never write the file or take the writer's lock.
    """
    absolute = Path(db_path).expanduser().absolute()
    return f"duckdb:///{quote(str(absolute), safe='/')}?access_mode=read_only"


def read_only_engine(db_path: Path) -> Engine:
    """A SQLAlchemy engine on the published warehouse: read-only, a new DuckDB connection per use."""
    try:
        import duckdb_engine  # noqa: F401  (registers the duckdb:// dialect)
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
    except ImportError as error:
        raise ExtraMissing(f"{error.name} is not installed: {EXTRA_HINT}") from None
    if not Path(db_path).is_file():
        raise StepFailed(f"no warehouse at {db_path}: run `carepulse build` first")
    return create_engine(warehouse_url(db_path), poolclass=NullPool)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One connection for a batch of queries, so they all read the same published build."""
    with engine.connect() as connection:
        yield connection


def read_frame(connection: Connection, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A query's rows as a DataFrame; values travel as bound parameters (`:name`), never pasted."""
    import pandas as pd
    from sqlalchemy import text

    result = connection.execute(text(sql), dict(params or {}))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def relations(connection: Connection, schemas: tuple[str, ...] = ("marts", "ml")) -> set[str]:
    """`schema.name` of every table and view in the given schemas (pages check what exists)."""
    placeholders = ", ".join(f":s{i}" for i in range(len(schemas)))
    frame = read_frame(
        connection,
        f"select table_schema || '.' || table_name as name from information_schema.tables "
        f"where table_schema in ({placeholders})",
        {f"s{i}": schema for i, schema in enumerate(schemas)},
    )
    return set(frame["name"])
