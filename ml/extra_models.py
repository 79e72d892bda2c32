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

BUNDLE_KEY = "extra_models"
#: Prediction table per model (schema ml; ml/writeback.py declares them).
PREDICTION_TABLES: dict[str, str] = {
    dropout.DROPOUT: "journey_dropout_predictions",
    champions.CHAMPION: "provider_champion_predictions",
}


def train_models(
    db_path: Path, as_of: date, config: TrainConfig, progress: Callable[[str], None]
) -> dict[str, TrainedModel]:
    """Train the dropout and the champion model on what was known at as_of."""
    return {
        dropout.DROPOUT: dropout.train_dropout(dropout.load_examples(db_path, as_of), config, progress),
        champions.CHAMPION: champions.train_champion(champions.load_examples(db_path, as_of), config, progress),
    }


def run_frames(bundle: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """model_runs, model_candidates, feature_importance and holdout_predictions rows."""
    models = bundle.get(BUNDLE_KEY) or {}
    return model_run_frames({**bundle, "models": models}) if models else {}


def score_frames(db_path: Path, bundle: dict[str, Any], k: int) -> dict[str, pd.DataFrame]:
    """Prediction rows per table (without run columns) of every extra model in the bundle."""
    models: dict[str, TrainedModel] = bundle.get(BUNDLE_KEY) or {}
    out = {}
    if dropout.DROPOUT in models:
        out[PREDICTION_TABLES[dropout.DROPOUT]] = dropout.score_dropout(
            models[dropout.DROPOUT], dropout.scoring_rows(db_path), k
        )
    if champions.CHAMPION in models:
        out[PREDICTION_TABLES[champions.CHAMPION]] = champions.score_champion(
            models[champions.CHAMPION], champions.scoring_rows(db_path), k
        )
    for name, table in PREDICTION_TABLES.items():
        if table in out:
            out[table]["model_name"] = name
            out[table]["estimator"] = models[name].estimator
    return out
