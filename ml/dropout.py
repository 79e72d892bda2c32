"""Care-pathway dropout (study 001): will a patient inside the pathway make no progress in
the next dropout_after_days days?

Examples are (patient, cutoff) rows of marts.journey_dropout_features_by_cutoff: every
patient inside the pathway at a cutoff (a stage entered, the final stage not completed,
not yet dropped out), labelled is_dropped_out once the window after the cutoff has closed.
Validation is by time: the latest `dropout_test_cutoffs` labelled cutoffs are held out,
and training uses the cutoffs whose window had closed by the first of them. The study
compared logistic regression with gradient boosting; so do the candidates here, with the
same selection rule, calibration and explanation as the churn model (ml/modeling.py).
Scored at the as-of date for every patient inside the pathway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd

from . import io
from .config import TrainConfig
from .features import load_feature_spec
from .modeling import TrainedModel
from .tabular import derive_declared, score_rows, train_on_later_periods

DROPOUT = "dropout"
DROPOUT_SPEC = load_feature_spec(DROPOUT)
MART = io.DROPOUT_FEATURES
#: Study 001's candidates, simplest first (a tie goes to the logistic regression).
DROPOUT_CANDIDATES: tuple[str, ...] = ("logistic_regression", "hist_gradient_boosting")


def derive_dropout_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready dropout columns (the declared transforms; see ml/tabular.py)."""
    return derive_declared(frame, DROPOUT_SPEC)


def model_config(config: TrainConfig) -> TrainConfig:
    """The run's settings with this model's candidates, and the final refit capped at the
    comparison sample: the examples are a few per patient, so more rows add little and
    the ML step stays short."""
    return replace(config, candidates=DROPOUT_CANDIDATES, max_train_rows=config.compare_rows)


def load_examples(db_path: Path, as_of: date) -> pd.DataFrame:
    """Labelled examples whose window closed by as_of (a backtest sees only those)."""
    frame = io.read_mart_rows(
        db_path, MART, "is_labelled and dropout_window_end <= ?", [as_of], "cutoff_date, patient_id"
    )
    frame["cutoff_date"] = pd.to_datetime(frame["cutoff_date"]).dt.date
    return frame


def train_dropout(
    examples: pd.DataFrame,
    config: TrainConfig,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainedModel:
    """Compare LR and gradient boosting on the held-out cutoffs, select, calibrate, refit."""
    window = pd.to_datetime(examples["dropout_window_end"]) - pd.to_datetime(examples["cutoff_date"])
    return train_on_later_periods(
        DROPOUT,
        derive_dropout_features,
        DROPOUT_SPEC,
        examples,
        date_column="cutoff_date",
        entity="patient_id",
        label="is_dropped_out",
        window_days=int(window.dt.days.max()) if len(examples) else 0,
        config=model_config(config),
        test_periods=config.dropout_test_cutoffs,
        unit="monthly cutoff",
        progress=progress,
    )


def scoring_rows(db_path: Path) -> pd.DataFrame:
    """Every patient inside the pathway at the as-of date, with the features."""
    return io.read_mart_rows(db_path, MART, "is_scoring_cutoff", [], "patient_id")


def score_dropout(trained: TrainedModel, rows: pd.DataFrame, k: int) -> pd.DataFrame:
    """ml.journey_dropout_predictions rows (without run columns) for the scoring rows."""
    return score_rows(trained, rows, "patient_id", k, carry=("current_stage", "days_in_current_stage"))
