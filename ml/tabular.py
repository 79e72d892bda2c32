"""What the pathway dropout and the future-Champion models share: one row per example,
features declared in the ML marts' YAML, rescaled by the declared transform only.

Why a generic derive here (and not hand-made ratios as for churn): both models read marts
whose columns are already the quantities a care or sales team reasons with (days in the
stage, claims in the last quarter), so the only row-wise work left is the declared log
scale and a defined value for "never" / "none". Keeping it declarative means adding a
feature is a mart column and a YAML line, as for the other models.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from .config import RiskBands, TrainConfig
from .explain import candidate_factors, occlusion_contributions, top_factors
from .features import NEVER_DAYS, FeatureSpec, _assemble, _categorical_text, _numbers
from .modeling import TrainedModel, fit_model, risk_deciles
from .selection import Derive, TooLittleData


def derive_declared(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Categoricals as text; numerics as declared (log_count: log1p of a non-negative count,
    null = 0; log_days_since: log1p, null = NEVER_DAYS; else the value, null = 0). Pure, row-wise."""
    num = _numbers(frame, spec.numeric)
    out: dict[str, np.ndarray] = {}
    for column in spec.numeric:
        values = num[column]
        if column in spec.log_count:
            out[f"log_{column}"] = np.log1p(np.clip(np.nan_to_num(values), 0, None))
        elif column in spec.log_days_since:
            out[f"log_{column}"] = np.log1p(np.clip(np.where(np.isnan(values), NEVER_DAYS, values), 0, None))
        else:
            out[column] = np.nan_to_num(values)
    return _assemble(frame.index, _categorical_text(frame, spec.categorical), out)


def held_out_cutoffs(labelled: list[date], window_days: int, test_cutoffs: int) -> tuple[list[date], list[date]]:
    """(training cutoffs, test cutoffs): the latest `test_cutoffs` labelled cutoffs are held
    out; a training cutoff's label window must have closed by the first test cutoff (on the
    test date nobody could know later labels). TooLittleData when either side is empty."""
    cutoffs = sorted(set(labelled))
    test = cutoffs[-test_cutoffs:] if cutoffs else []
    train = [c for c in cutoffs if test and c + timedelta(days=window_days) <= test[0]]
    if not test or not train:
        raise TooLittleData(
            f"{len(cutoffs)} labelled cutoffs: too few to train on cutoffs whose {window_days}-day label "
            f"window closed before the {test_cutoffs} held-out ones; more history is needed"
        )
    return train, test


def time_periods(train: pd.DataFrame, test: pd.DataFrame, column: str, unit: str) -> dict[str, Any]:
    """The ml.model_runs period columns of a split by `column` (dates)."""
    return {
        "train_rows": len(train),
        "test_rows": len(test),
        "train_periods": int(train[column].nunique()),
        "test_periods": int(test[column].nunique()),
        "train_start": min(train[column]),
        "train_end": max(train[column]),
        "test_start": min(test[column]),
        "test_end": max(test[column]),
        "period_unit": unit,
    }


def train_on_later_periods(
    name: str,
    derive: Derive,
    spec: FeatureSpec,
    examples: pd.DataFrame,
    *,
    date_column: str,
    entity: str,
    label: str,
    window_days: int,
    config: TrainConfig,
    test_periods: int,
    unit: str,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainedModel:
    """Hold out the latest `test_periods` labelled dates (held_out_cutoffs), then compare,
    select, calibrate and refit like the churn model (modeling.fit_model). Held-out rows
    are identified as `<entity>@<date>`."""
    if examples.empty:
        raise TooLittleData(f"{name} model: no labelled examples (too little history?)")
    train_dates, test_dates = held_out_cutoffs(list(examples[date_column]), window_days, test_periods)
    train = examples[examples[date_column].isin(set(train_dates))].reset_index(drop=True)
    test = examples[examples[date_column].isin(set(test_dates))].reset_index(drop=True)
    periods = time_periods(train, test, date_column, unit)
    progress(
        f"{name}: {len(train)} training examples over {periods['train_periods']} {unit}s, "
        f"{len(test)} held out at {periods['test_start']}..{periods['test_end']}"
    )
    return fit_model(
        name,
        derive,
        spec,
        train,
        test,
        examples,
        label=label,
        group=entity,
        holdout_id=test[entity].astype(str) + "@" + test[date_column].astype(str),
        holdout_date=pd.Series(test[date_column]),
        periods=periods,
        config=config,
        progress=progress,
    )


def score_rows(
    trained: TrainedModel,
    frame: pd.DataFrame,
    id_column: str,
    k: int,
    bands: RiskBands | None = None,
    carry: tuple[str, ...] = (),
) -> pd.DataFrame:
    """id_column, probability, risk_decile, risk_band, top_factor_1..k, top_factors (JSON)
    and the `carry` columns of frame as they are, for every row of frame, explained like the
    churn model (occlusion on the columns the permutation importance ranks highest)."""
    factor_columns = [f"top_factor_{i}" for i in range(1, k + 1)]
    if frame.empty:
        return pd.DataFrame(
            columns=[id_column, "probability", "risk_decile", "risk_band", "top_factors", *factor_columns, *carry]
        )
    frame = frame.reset_index(drop=True)
    X = frame[trained.spec.columns]
    probability = trained.model.predict_proba(X)[:, 1]
    explained = candidate_factors(trained.importance, trained.spec)
    contributions = occlusion_contributions(trained.model, X, trained.spec, trained.reference, explained)
    names, payloads = top_factors(contributions, X, k)
    ids = frame[id_column].astype(str).to_numpy()
    deciles = risk_deciles(probability, ids)
    bands = bands or RiskBands()
    out = pd.DataFrame(
        {
            id_column: ids,
            "probability": probability.astype(float),
            "risk_decile": deciles.astype(np.int32),
            "risk_band": [bands.band(int(d)) for d in deciles],
            "top_factors": payloads,
        }
    )
    for i, column in enumerate(factor_columns):
        out[column] = [row[i] for row in names]
    for column in carry:
        out[column] = frame[column].to_numpy()
    return out
