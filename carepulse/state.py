"""Fingerprint of everything a build depends on, so an unchanged re-run does nothing.

Raw files are fingerprinted by name, size and modification time (hashing gigabytes would
cost as much as the build); project files by content.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from carepulse.config import PROJECT_DIR, Settings

PROJECT_INPUTS = ("models", "seeds", "macros", "ml", "carepulse", "selectors.yml", "dbt_project.yml", "profiles.yml")


def _project_files() -> list[Path]:
    files: list[Path] = []
    for name in PROJECT_INPUTS:
        path = PROJECT_DIR / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted(files)


def build_fingerprint(settings: Settings, extra: dict[str, str] | None = None) -> str:
    """Digest of the raw files' metadata, the project files' content and the settings."""
    digest = hashlib.sha256()
    # files in table folders too (a daily load adds <table>/<day>.parquet); dot files are
    # skipped, as the loader skips them
    for raw in sorted(settings.raw_dir.rglob("*")):
        relative = raw.relative_to(settings.raw_dir)
        if raw.is_file() and not any(part.startswith(".") for part in relative.parts):
            stat = raw.stat()
            digest.update(f"raw:{relative.as_posix()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    for path in _project_files():
        digest.update(f"src:{path.relative_to(PROJECT_DIR)}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(json.dumps({"as_of": settings.as_of, **(extra or {})}, sort_keys=True).encode())
    return digest.hexdigest()


def state_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".state.json")


def is_up_to_date(db_path: Path, fingerprint: str) -> bool:
    """True when db_path exists and was last built from exactly this fingerprint."""
    path = state_file(db_path)
    if not db_path.exists() or not path.exists():
        return False
    return json.loads(path.read_text()).get("fingerprint") == fingerprint


def record_build(db_path: Path, fingerprint: str, steps: list[str]) -> None:
    """Write the state file through a temporary name, so a reader never sees half of it."""
    path = state_file(db_path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"fingerprint": fingerprint, "steps": steps}, indent=2))
    temporary.replace(path)
