"""The dropout and future-Champion models inside `ml train` and `ml score`.

Why apart from the churn/engagement pair in bundle["models"]: scoring, drift monitoring and
the worklist read that pair by name; these two models have their own populations
(patients inside the care pathway, providers outside the top segment) and their own
prediction tables. They are kept in the same run (one model file, one run id, one
transaction) under bundle[BUNDLE_KEY], and their run, candidate, importance and held-out
rows are built by the same code as the pair's (runs.run_frames), so every model reports
alike. A bundle saved before these models existed has no such key and scores as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from . import champions, dropout
from .config import TrainConfig
from .modeling import TrainedModel
from .runs import run_frames as model_run_frames
from .selection import TooLittleData

BUNDLE_KEY = "extra_models"
#: Prediction table per model (schema ml; ml/writeback.py declares them).
PREDICTION_TABLES: dict[str, str] = {
    dropout.DROPOUT: "journey_dropout_predictions",
    champions.CHAMPION: "provider_champion_predictions",
}


def load_examples(db_path: Path, as_of: date) -> dict[str, pd.DataFrame]:
    """Each model's labelled examples as known at as_of (its training frame)."""
    return {
        dropout.DROPOUT: dropout.load_examples(db_path, as_of),
        champions.CHAMPION: champions.load_examples(db_path, as_of),
    }


def train_models(
    examples: dict[str, pd.DataFrame], config: TrainConfig, progress: Callable[[str], None]
) -> dict[str, TrainedModel]:
    """Train the dropout and the champion model on their examples (load_examples).

    A model the data cannot train (TooLittleData: e.g. a few dozen providers, too few to
    hold out a period and calibrate with both classes) is left out of the run and says so:
    the churn/engagement worklist does not depend on it, and its marts stay empty (or keep
    the last run that could train it) instead of the whole build failing on a small set.
    """
    trainers = {dropout.DROPOUT: dropout.train_dropout, champions.CHAMPION: champions.train_champion}
    trained = {}
    for name, fit in trainers.items():
        try:
            trained[name] = fit(examples[name], config, progress)
        except TooLittleData as reason:
            progress(f"{name}: not trained in this run: {reason}")
    return trained


def run_frames(bundle: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """model_runs, model_candidates, feature_importance and holdout_predictions rows."""
    models = bundle.get(BUNDLE_KEY) or {}
    return model_run_frames({**bundle, "models": models}) if models else {}


def scoring_rows(db_path: Path, bundle: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The rows each extra model of the bundle scores (the drift monitor bins them too)."""
    models = bundle.get(BUNDLE_KEY) or {}
    readers = {dropout.DROPOUT: dropout.scoring_rows, champions.CHAMPION: champions.scoring_rows}
    return {name: read(db_path) for name, read in readers.items() if name in models}


def score_frames(bundle: dict[str, Any], rows: dict[str, pd.DataFrame], k: int) -> dict[str, pd.DataFrame]:
    """Prediction rows per table (without run columns) of every extra model in the bundle,
    on its scoring rows (scoring_rows)."""
    models: dict[str, TrainedModel] = bundle.get(BUNDLE_KEY) or {}
    scorers = {dropout.DROPOUT: dropout.score_dropout, champions.CHAMPION: champions.score_champion}
    out = {}
    for name, table in PREDICTION_TABLES.items():
        if name in models:
            out[table] = scorers[name](models[name], rows[name], k)
            out[table]["model_name"] = name
            out[table]["estimator"] = models[name].estimator
    return out
