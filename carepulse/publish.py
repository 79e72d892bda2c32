"""Where a build's private file comes from, and how a finished build is published.

Why: `carepulse build` never writes the published warehouse (readers keep a complete
snapshot and are never blocked), so each build works in a private file and publishes it by
an atomic rename. An incremental build must start from the warehouse's earlier state, and a
full copy of the published file would dominate a daily build of a large warehouse on a
filesystem without reflinks. So the file a publish replaces is kept as the *spare*
(`.<name>.spare`, a hard link taken before the rename: no copy), and the next build starts
from it: renamed to the private path, its `ml` schema (run history and predictions, written
by Python, not rebuilt by dbt) replaced by the published one's, and then built like any
incremental build. The spare is one build older than the published file; the incremental
models reload from their own latest date minus lookback_days, so starting one build further
back reloads a little more and ends at the same tables (tests/test_publish_spare.py).

The spare is used only when it is safe:
- it is the file the last publish retired, and the published file is still the one that
  publish wrote (inode, size and mtime recorded in `.<name>.spare.json`): a plain `dbt build`
  in place or a file copied over the warehouse invalidates it;
- no process holds it open: a DuckDB reader that opened the warehouse before the last
  publish still reads that very file and holds a shared lock on it, so an exclusive lock
  that cannot be taken means "in use" and the build copies the published file instead;
  nothing can open the spare anew (its name is private, readers open the published name);
- the build is a complete one (no --select, with the ML step): a partial build would leave
  the models it skips one build older than the published ones.
Elsewhere the private file is a copy-on-write clone where the filesystem has reflinks (btrfs,
XFS with reflink=1, bcachefs, ZFS with block cloning) and a plain copy otherwise (ext4, tmpfs,
overlayfs). A build that starts from scratch (first build, --full-refresh) has no earlier
state in the lineage of the new file: after publishing it, the spare is a copy of the new
file, paid by the full build, so the next daily build finds one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import duckdb

#: linux/fs.h FICLONE = _IOW(0x94, 9, int): clone all of one file's extents into another.
FICLONE = 0x40049409
#: The schema Python writes (ml/writeback.py): appended run history, not rebuilt by dbt.
PYTHON_SCHEMA = "ml"


def clone_or_copy(source: Path, destination: Path) -> str:
    """Copy source to a new file destination; 'clone' when the filesystem shared the blocks,
    'copy' when it copied them."""
    with open(source, "rb") as src, open(destination, "xb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "clone"
        except OSError:
            pass
    shutil.copyfile(source, destination)
    os.utime(destination)
    return "copy"


def spare_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.spare")


def _record_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.spare.json")


def _identity(path: Path) -> list[int]:
    """What tells one file version from another without reading it."""
    stat = path.stat()
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns]


def in_use(path: Path) -> bool:
    """True when another process holds a lock on the file (a DuckDB connection to it: read-only
    connections hold a shared lock, read-write ones an exclusive lock)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def usable_spare(db_path: Path) -> tuple[Path | None, str]:
    """The spare when a build may start from it, else None; and why, in words."""
    spare, record = spare_path(db_path), _record_path(db_path)
    if not spare.exists() or not record.exists() or not db_path.exists():
        return None, "no spare"
    try:
        recorded = json.loads(record.read_text())
    except (OSError, ValueError):
        return None, "unreadable spare record"
    if recorded != {"spare": _identity(spare), "published": _identity(db_path)}:
        return None, "the spare is not the file the last publish replaced"
    if in_use(spare):
        return None, "a reader still holds the spare"
    return spare, "the spare is free"


def start_from_spare(spare: Path, building: Path, published: Path) -> None:
    """Move the spare to the private build path and give it the published file's `ml` schema."""
    os.rename(spare, building)
    copy_schema(published, building, PYTHON_SCHEMA)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def copy_schema(source: Path, target: Path, schema: str) -> None:
    """Replace schema in target by source's: its tables (with their constraints) and rows, then
    its views. Not one transaction: target is a private build file, dropped if this fails."""
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach {_literal(str(source))} as carepulse_source (read_only)")
        where = "where database_name = 'carepulse_source' and schema_name = ?"
        tables = con.execute(f"select table_name, sql from duckdb_tables() {where} order by table_name", [schema])
        tables = tables.fetchall()
        views = con.execute(f"select sql from duckdb_views() {where} and not internal order by view_oid", [schema])
        views = [sql for (sql,) in views.fetchall()]
        con.execute(f"drop schema if exists {schema} cascade")
        if tables or views:
            con.execute(f"create schema {schema}")
        for name, create in tables:
            con.execute(create)
            con.execute(f'insert into {schema}."{name}" select * from carepulse_source.{schema}."{name}"')
        _create_views(con, views)
        con.execute("detach carepulse_source")
    finally:
        con.close()


def _create_views(con: duckdb.DuckDBPyConnection, views: list[str]) -> None:
    """Create views that may read one another: each pass creates those whose relations exist,
    until none is left (a pass that creates none re-raises its first error)."""
    while views:
        failed: list[str] = []
        errors: list[duckdb.Error] = []
        for create in views:
            try:
                con.execute(create)
            except duckdb.CatalogException as error:
                failed.append(create)
                errors.append(error)
        if len(failed) == len(views):
            raise errors[0]
        views = failed


def publish(building: Path, db_path: Path, keep_previous: bool) -> None:
    """Rename the finished build over the published file. keep_previous: the file it replaces
    is an earlier state of the new one (the build started from it or from the spare) and
    becomes the spare; otherwise the old spare is dropped (see refresh_spare)."""
    spare, record = spare_path(db_path), _record_path(db_path)
    record.unlink(missing_ok=True)
    if keep_previous and db_path.exists():
        retiring = spare.with_name(spare.name + ".new")
        retiring.unlink(missing_ok=True)
        os.link(db_path, retiring)
        building.replace(db_path)
        retiring.replace(spare)
        _write_record(db_path)
        return
    building.replace(db_path)
    spare.unlink(missing_ok=True)


def refresh_spare(db_path: Path) -> str:
    """After a build from scratch: the spare is a clone or copy of the new published file."""
    spare = spare_path(db_path)
    fresh = spare.with_name(spare.name + ".new")
    fresh.unlink(missing_ok=True)
    how = clone_or_copy(db_path, fresh)
    fresh.replace(spare)
    _write_record(db_path)
    return how


def _write_record(db_path: Path) -> None:
    record = {"spare": _identity(spare_path(db_path)), "published": _identity(db_path)}
    _record_path(db_path).write_text(json.dumps(record))
