"""`carepulse export`: the marts and ML predictions as files, for tools that read files.

Reads the published warehouse read-only, so it never blocks or sees a build in progress.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

EXPORTED_SCHEMAS = ("marts", "ml")


def export_tables(db_path: Path, out_dir: Path, fmt: str = "parquet") -> list[Path]:
    """Write every table and view of the marts and ml schemas to out_dir/<schema>/<name>.<fmt>."""
    if fmt != "parquet":
        raise ValueError(f"unsupported export format {fmt!r}; use parquet")
    if not db_path.exists():
        raise FileNotFoundError(f"no warehouse at {db_path}: run `carepulse build` first")
    written: list[Path] = []
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {EXPORTED_SCHEMAS} order by 1, 2"
        ).fetchall()
        for schema, name in relations:
            target = out_dir / schema / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            path_literal = str(target).replace("'", "''")
            con.execute(f"copy (select * from \"{schema}\".\"{name}\") to '{path_literal}' (format parquet)")
            written.append(target)
    finally:
        con.close()
    return written
