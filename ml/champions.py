"""Future Champions (study 004's next step): which providers reach the top segment
(Champions) within the next quarter?

Examples are (provider, month end) rows of marts.provider_champion_features_by_month for
providers not in the top segment at the month end, labelled is_champion_next_quarter once
the next three month ends are in the history. Candidates are compared on later months:
the latest `champion_test_months` labelled month ends are held out, and training uses the
month ends whose three-month label window had closed by the first of them. Same
candidates, selection, calibration and explanation as the churn model (ml/modeling.py).
Scored at the latest month end of the history for every provider not in the top segment.
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

CHAMPION = "champion"
CHAMPION_SPEC = load_feature_spec(CHAMPION)
MART = io.CHAMPION_FEATURES
#: The shortest span of three month ends (Jan 31 -> Apr 30): a month end this many days
#: before the first held-out one has its whole next quarter observed by then.
QUARTER_WINDOW_DAYS = 89


def derive_champion_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready champion columns (the declared transforms; see ml/tabular.py)."""
    return derive_declared(frame, CHAMPION_SPEC)


def model_config(config: TrainConfig) -> TrainConfig:
    """The run's settings with the final refit capped at the comparison sample (a provider
    contributes one row a month: tens of thousands of rows at scale 1 at most)."""
    return replace(config, max_train_rows=config.compare_rows)


def load_examples(db_path: Path, as_of: date) -> pd.DataFrame:
    """Labelled provider months up to as_of."""
    frame = io.read_mart_rows(
        db_path, MART, "is_labelled and month_end_date <= ?", [as_of], "month_end_date, provider_id"
    )
    frame["month_end_date"] = pd.to_datetime(frame["month_end_date"]).dt.date
    return frame


def train_champion(
    examples: pd.DataFrame, config: TrainConfig, progress: Callable[[str], None] = lambda _: None
) -> TrainedModel:
    """Compare the candidates on the held-out later months, select, calibrate, refit."""
    return train_on_later_periods(
        CHAMPION,
        derive_champion_features,
        CHAMPION_SPEC,
        examples,
        date_column="month_end_date",
        entity="provider_id",
        label="is_champion_next_quarter",
        window_days=QUARTER_WINDOW_DAYS,
        config=model_config(config),
        test_periods=config.champion_test_months,
        unit="month end",
        progress=progress,
    )


def scoring_rows(db_path: Path) -> pd.DataFrame:
    """Every provider outside the top segment at the latest month end, with the features."""
    return io.read_mart_rows(db_path, MART, "is_scoring_month", [], "provider_id")


def score_champion(trained: TrainedModel, rows: pd.DataFrame, k: int) -> pd.DataFrame:
    """ml.provider_champion_predictions rows (without run columns) for the scoring rows."""
    return score_rows(trained, rows, "provider_id", k, carry=("month_end_date", "segment"))
