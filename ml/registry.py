"""Fitted models on disk: one joblib file per training run, named by its run id.

Why files: `python -m ml score` must work without training first (a nightly score on
yesterday's model), and a run id in ml.model_runs must point at the exact object that
produced its predictions. Files are written to a temporary name and renamed, so a crash
never leaves a half-written model under a real run id.

Why a hash check before loading: unpickling runs code, so a file planted or swapped in the
model folder would run on `python -m ml score`. Each file's SHA-256 is recorded in
ml.model_runs when it is written; load() refuses a file whose content does not match the
warehouse's record (or that the warehouse has no record of) before unpickling anything.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

_RUN_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")


def new_run_id(fingerprint: str, now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC time to the microsecond plus the data fingerprint prefix."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime('%Y%m%dT%H%M%S%f')}Z-{fingerprint[:8]}"


def model_path(model_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return Path(model_dir) / f"{run_id}.joblib"


class UntrustedModel(RuntimeError):
    """A model file whose SHA-256 is not the one recorded when it was written."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model_dir: Path, run_id: str, bundle: dict[str, Any]) -> Path:
    """Write the bundle atomically to <model_dir>/<run_id>.joblib and return the path.

    The file's SHA-256 can only be known once it is written, so it is put into the
    in-memory bundle as bundle["model_sha256"] (not into the file) for run_frames to record.
    """
    path = model_path(model_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".joblib.tmp")
    joblib.dump(bundle, temporary, compress=3)
    bundle["model_sha256"] = file_sha256(temporary)
    os.replace(temporary, path)
    return path


def load(model_dir: Path, run_id: str, expected_sha256: str | None) -> dict[str, Any]:
    """Unpickle the run's file only when its SHA-256 equals the one recorded for the run."""
    path = model_path(model_dir, run_id)
    if not path.exists():
        raise FileNotFoundError(f"no saved model for run {run_id} in {model_dir} (run `python -m ml train`)")
    if not expected_sha256:
        raise UntrustedModel(
            f"refusing to load {path}: the warehouse has no SHA-256 recorded for run {run_id} in ml.model_runs "
            "(train again with `python -m ml train`)"
        )
    content = path.read_bytes()  # hash and unpickle the same bytes: no swap in between
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected_sha256:
        raise UntrustedModel(
            f"refusing to load {path}: its SHA-256 {actual} differs from {expected_sha256} recorded in "
            "ml.model_runs when it was trained (the file was changed or replaced)"
        )
    return joblib.load(io.BytesIO(content))
