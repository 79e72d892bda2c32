"""When `carepulse build` retrains the models (issue 13 point 3), and when it only scores.

Why a policy: on a daily load, retraining every time costs more than the load itself and
moves every prediction; scoring the new data with the saved model is what a daily run
needs. The model is retrained when asked (--retrain), when there is none to score with
(no run recorded or its file gone) or when it is older than retrain_after_days. Age is
counted in data days, the as-of date of the new build minus the as-of date the model was
trained on, never by the clock: the same files give the same decision on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ml.io import connect

#: Default of `carepulse build --retrain-after-days`.
RETRAIN_AFTER_DAYS = 30


@dataclass(frozen=True)
class LastRun:
    """The latest trained run recorded in the warehouse."""

    run_id: str
    as_of_date: date
    model_file_exists: bool


@dataclass(frozen=True)
class RetrainDecision:
    retrain: bool
    reason: str


def decide(asked: bool, last: LastRun | None, as_of: date, after_days: int) -> RetrainDecision:
    """Retrain or score with the saved model, and why (printed by the build)."""
    if after_days < 0:
        raise ValueError(f"--retrain-after-days must be >= 0, got {after_days}")
    if asked:
        return RetrainDecision(True, "retraining: asked for (--retrain)")
    if last is None:
        return RetrainDecision(True, "training: no trained model recorded in the warehouse")
    if not last.model_file_exists:
        return RetrainDecision(True, f"retraining: the model file of run {last.run_id} is missing")
    age = (as_of - last.as_of_date).days
    if age > after_days:
        return RetrainDecision(
            True, f"retraining: model {last.run_id} was trained as of {last.as_of_date}, {age} days before {as_of}"
        )
    return RetrainDecision(
        False,
        f"scoring with the saved model {last.run_id} (trained as of {last.as_of_date}, {age} days ago; "
        f"retrained after {after_days} days or with --retrain)",
    )


def last_run(db_path: Path, model_dir: Path) -> LastRun | None:
    """The latest run in ml.model_runs of db_path and whether its model file is in model_dir."""
    from ml import registry, writeback

    run_id = writeback.latest_run_id(db_path)
    if run_id is None:
        return None
    with connect(db_path) as con:
        (trained_as_of,) = con.execute(
            "select max(as_of_date) from ml.model_runs where run_id = ?", [run_id]
        ).fetchone()
    return LastRun(run_id, trained_as_of, registry.model_path(model_dir, run_id).exists())


def current_as_of(db_path: Path) -> date:
    """The as-of date of the build in db_path (marts.as_of_date), on the build's engine."""
    with connect(db_path) as con:
        return con.execute("select as_of_date from marts.as_of_date").fetchone()[0]
