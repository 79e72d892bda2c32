"""`carepulse export`: the marts and ML predictions as files, for tools that read files.

Formats: parquet (typed, for BI tools and notebooks) and csv (a header row, comma-separated,
UTF-8, `"` quotes, empty for NULL: what a CRM import of the outreach worklist expects).
Reads the published warehouse read-only, so it never blocks or sees a build in progress.
Writes only inside the target folder: every file is written under a fresh temporary name
and renamed over its target (a rename replaces a symlink, it never follows it), and an
existing symlink or a folder that leads out of the target folder is refused before
anything is written. No path is pasted into SQL: DuckDB's relation API takes it as a value.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import duckdb

from carepulse.dbt_runner import StepFailed

EXPORTED_SCHEMAS = ("marts", "ml")
#: Formats `carepulse export --format` accepts (the file extension is the format's name).
FORMATS = ("parquet", "csv")


def _identifier(name: str) -> str:
    """A quoted SQL identifier (the engine's own rule: double the double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def _checked_target(out_dir: Path, schema: str, name: str, fmt: str = "parquet") -> Path:
    """out_dir/<schema>/<name>.<fmt>, refusing any symlink on the way out of out_dir."""
    root = out_dir.resolve()
    target = out_dir / schema / f"{name}.{fmt}"
    for path in (target.parent, target):
        if path.is_symlink():
            raise StepFailed(f"refusing to export through the symlink {path}: remove it or choose another --out-dir")
    if not target.resolve().is_relative_to(root):
        raise StepFailed(f"refusing to export to {target}: it leads out of {out_dir}")
    return target


def export_tables(db_path: Path, out_dir: Path, fmt: str = "parquet") -> list[Path]:
    """Write every table and view of the marts and ml schemas to out_dir/<schema>/<name>.<fmt>."""
    if fmt not in FORMATS:
        raise StepFailed(f"unsupported export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not Path(db_path).is_file():
        raise StepFailed(f"no warehouse at {db_path}: run `carepulse build` first")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise StepFailed(f"export folder {out_dir} is not a folder")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in (?, ?) order by 1, 2",
            list(EXPORTED_SCHEMAS),
        ).fetchall()
        targets = [(schema, name, _checked_target(out_dir, schema, name, fmt)) for schema, name in relations]
        written: list[Path] = []
        for schema, name, target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
            try:
                relation = con.table(f"{_identifier(schema)}.{_identifier(name)}")
                if fmt == "csv":
                    relation.write_csv(str(temporary), header=True, sep=",", na_rep="", quotechar='"')
                else:
                    relation.write_parquet(str(temporary))
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
            written.append(target)
    finally:
        con.close()
    return written
