"""Fitted models on disk: one joblib file per training run, named by its run id.

Why files: `python -m ml score` must work without training first (a nightly score on
yesterday's model), and a run id in ml.model_runs must point at the exact object that
produced its predictions. Files are written to a temporary name and renamed, so a crash
never leaves a half-written model under a real run id.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib

_RUN_ID = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{8}$")


def new_run_id(fingerprint: str, now: datetime | None = None) -> str:
    """Sortable, unique run id: UTC time to the microsecond plus the data fingerprint prefix."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment.strftime('%Y%m%dT%H%M%S%f')}Z-{fingerprint[:8]}"


def model_path(model_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.match(run_id):
        raise ValueError(f"not a run id: {run_id!r}")
    return Path(model_dir) / f"{run_id}.joblib"


def save(model_dir: Path, run_id: str, bundle: dict[str, Any]) -> Path:
    """Write the bundle atomically to <model_dir>/<run_id>.joblib and return the path."""
    path = model_path(model_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".joblib.tmp")
    joblib.dump(bundle, temporary, compress=3)
    os.replace(temporary, path)
    return path


def load(model_dir: Path, run_id: str) -> dict[str, Any]:
    path = model_path(model_dir, run_id)
    if not path.exists():
        raise FileNotFoundError(f"no saved model for run {run_id} in {model_dir} (run `python -m ml train`)")
    return joblib.load(path)


def run_ids(model_dir: Path) -> list[str]:
    """Run ids with a saved model, oldest first."""
    directory = Path(model_dir)
    if not directory.exists():
        return []
    return sorted(p.stem for p in directory.glob("*.joblib") if _RUN_ID.match(p.stem))


def latest(model_dir: Path) -> str | None:
    ids = run_ids(model_dir)
    return ids[-1] if ids else None
