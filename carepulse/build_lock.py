"""One build at a time per warehouse, and private build files that only their owner removes.

Why an OS lock (fcntl.flock on `.<db name>.lock` beside the warehouse): the kernel drops it
when the process dies, even on kill -9, so a crashed build never blocks the next one and no
stale lock needs guessing. The lock's file descriptor is also handed to the dbt subprocess,
so a dbt left running by a killed parent keeps the warehouse locked until it exits too.

Why unique private folders (`.<db stem>.building-<pid>-<random>/<db stem>.duckdb`): two builds
never write or delete the same file, and the owner's PID in the name tells a later build
whether the folder is a leftover (owner gone) or still in use (owner alive: left alone).
The file inside always has the same name, so dbt (run from that folder with the relative
name) sees the same profile every build and keeps its saved parse: a new path in the
profile would make every build re-parse the whole project (carepulse.dbt_runner).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: Files DuckDB keeps beside a database file: its write-ahead log and its spill folder.
_COMPANIONS = ("", ".wal", ".tmp")


class BuildBusy(RuntimeError):
    """Another build holds the warehouse's lock and the caller chose not to wait."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.lock")


def _safe_name(db_path: Path) -> str:
    """The warehouse file name with only letters, digits, '_' and '-'.

    dbt sees only the private file, and dbt-duckdb pastes the catalog name (the file name
    up to its first dot) into SQL string literals unquoted, so a `'` in the warehouse's
    name would break the build. The catalog name is not stored in the file (views name
    schema and table only), so the published file may keep any name.
    """
    return re.sub(r"[^A-Za-z0-9_-]", "_", db_path.name.split(".")[0] or "warehouse")


def private_build_path(db_path: Path, pid: int | None = None) -> Path:
    """A build file in a folder no other build can choose (owner PID plus 64 random bits);
    the folder is not created here."""
    safe = _safe_name(db_path)
    return db_path.with_name(f".{safe}.building-{pid or os.getpid()}-{secrets.token_hex(8)}") / f"{safe}.duckdb"


def _owner(fd: int) -> str:
    """The PID the lock holder wrote into the lock file, as text ('unknown' while it writes)."""
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return text if text.isdigit() else "unknown"


@contextmanager
def build_lock(db_path: Path, wait: bool, say: Callable[[str], None]) -> Iterator[int]:
    """Hold the warehouse's build lock for the block; yield its file descriptor.

    wait=False raises BuildBusy at once when another build holds it; wait=True says which
    PID it waits for and blocks until the lock is free.
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            owner = _owner(fd)
            # a killed build's dbt can outlive it, holding the inherited lock
            gone = (
                " (killed; a dbt process it started still runs)" if owner.isdigit() and not _alive(int(owner)) else ""
            )
            if not wait:
                raise BuildBusy(
                    f"another build (PID {owner}{gone}) is building {db_path}; try again when it has finished "
                    "or run with --wait"
                ) from None
            say(f"waiting for build PID {owner}{gone} to finish ({db_path} is being built)")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _alive(pid: int) -> bool:
    """True when a process with this PID exists (another user's process counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_build_files(db_path: Path) -> list[Path]:
    """Private build folders (and, from older builds, files with their .wal/.tmp) of owners
    that no longer run.

    Call it only while holding the build lock: then no live build of this warehouse can be
    creating a file at the same moment, and a file whose owner is alive is never listed.
    """
    pattern = re.compile(rf"^\.{re.escape(_safe_name(db_path))}\.building-(\d+)-[0-9a-f]+(\.wal|\.tmp)?$")
    stale = []
    if not db_path.parent.is_dir():
        return stale
    for entry in sorted(db_path.parent.iterdir()):
        match = pattern.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            stale.append(entry)
    return stale


def remove_build_files(building: Path) -> None:
    """Delete a build file with DuckDB's companions (write-ahead log, spill folder) and its
    private folder."""
    for suffix in _COMPANIONS:
        remove(building.with_name(building.name + suffix))
    if ".building-" in building.parent.name:
        remove(building.parent)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
