"""The churn model: will an active patient have no activity in the next horizon days?

Examples are (patient, monthly cutoff) pairs from marts.patient_features_by_cutoff joined to
their labels; every patient counts once per cutoff at which they were active. Training
uses the cutoffs whose label window closed before the held-out (latest labelled) cutoff;
the model saved for scoring is refitted on all labelled cutoffs. Scoring is at the
as-of date for every patient who is not already churned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd

from . import io
from .config import CHURN, RiskBands, TrainConfig
from .features import CHURN_SPEC, derive_churn_features
from .modeling import TrainedModel, fit_model
from .selection import churn_time_split
from .tabular import score_rows


def load_examples(
    db_path: Path, as_of: date, horizon_days: int, config: TrainConfig
) -> tuple[pd.DataFrame, date, tuple[date, ...]]:
    """Labelled examples with windows closed by as_of, sampled in SQL to the row caps.

    Returns (examples, test cutoff, training cutoffs). The test cutoff is sampled to
    max_test_rows, all earlier cutoffs together to max_train_rows.
    """
    counts = io.labelled_cutoff_counts(db_path, as_of)
    cutoffs = [pd.Timestamp(c).date() for c in counts["cutoff_date"]]
    split = churn_time_split(cutoffs, horizon_days)
    sizes = dict(zip(cutoffs, counts["examples"].astype(int), strict=False))
    n_test = sizes[split.test_cutoff]
    n_rest = sum(v for c, v in sizes.items() if c != split.test_cutoff)
    fractions = {
        c: min(
            1.0, (config.max_test_rows / n_test) if c == split.test_cutoff else (config.max_train_rows / max(n_rest, 1))
        )
        for c in cutoffs
    }
    examples = io.read_churn_examples(db_path, fractions)
    examples["cutoff_date"] = pd.to_datetime(examples["cutoff_date"]).dt.date
    return examples, split.test_cutoff, split.train_cutoffs


def train_churn(
    examples: pd.DataFrame,
    test_cutoff: date,
    train_cutoffs: tuple[date, ...],
    config: TrainConfig,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainedModel:
    """Compare, select, calibrate and refit the churn model on the examples."""
    train = examples[examples["cutoff_date"].isin(set(train_cutoffs))].reset_index(drop=True)
    test = examples[examples["cutoff_date"] == test_cutoff].reset_index(drop=True)
    final = examples.reset_index(drop=True)
    if test.empty or train.empty:
        raise ValueError("churn model: empty training or test period")
    periods = {
        "train_rows": len(train),
        "test_rows": len(test),
        "train_periods": len(set(train["cutoff_date"])),
        "test_periods": 1,
        "train_start": min(train["cutoff_date"]),
        "train_end": max(train["cutoff_date"]),
        "test_start": test_cutoff,
        "test_end": test_cutoff,
        "period_unit": "monthly cutoff",
    }
    progress(
        f"churn: {len(train)} training examples over {periods['train_periods']} cutoffs "
        f"({periods['train_start']}..{periods['train_end']}), {len(test)} held out at {test_cutoff}"
    )
    return fit_model(
        CHURN,
        derive_churn_features,
        CHURN_SPEC,
        train,
        test,
        final,
        label="is_churned",
        group="patient_id",
        holdout_id=test["patient_id"].astype(str) + "@" + test["cutoff_date"].astype(str),
        holdout_date=pd.Series(test["cutoff_date"]),
        periods=periods,
        config=config,
        progress=progress,
    )


def score_churn(trained: TrainedModel, scoring: pd.DataFrame, bands: RiskBands, k: int) -> pd.DataFrame:
    """patient_id, probability, risk_decile, risk_band, top_factor_1..k, top_factors (JSON)."""
    return score_rows(trained, scoring, "patient_id", k, bands)
