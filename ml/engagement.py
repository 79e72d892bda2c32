"""The engagement model: will the member engage with this outreach call?

One example per observed call (marts.outreach_call_features), features as of the call time,
label outcome = 'engaged'. The latest engagement_test_days of calls are held out. Scoring
asks the same question for a hypothetical next call on each channel (the model's
`next_call` anchors), so each active patient gets a probability per channel and the best
channel is simply the one with the highest probability.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .config import ENGAGEMENT, RiskBands, TrainConfig
from .explain import candidate_factors, occlusion_contributions, top_factors
from .features import ENGAGEMENT_SPEC, derive_engagement_features
from .modeling import TrainedModel, fit_model, risk_deciles
from .selection import TooLittleData, engagement_time_split


def held_out_start(as_of: date, test_days: int) -> date:
    """First day of the held-out call period (the last test_days days up to as_of)."""
    return as_of - timedelta(days=test_days - 1)


def load_examples(db_path: Path, as_of: date, config: TrainConfig) -> pd.DataFrame:
    """Observed calls up to as_of with features, sampled in SQL to the row caps."""
    test_from = held_out_start(as_of, config.engagement_test_days)
    n_train, n_test = io.call_counts(db_path, as_of, test_from)
    return io.read_call_examples(
        db_path,
        as_of,
        test_from,
        train_fraction=min(1.0, config.max_train_rows / max(n_train, 1)),
        test_fraction=min(1.0, config.max_test_rows / max(n_test, 1)),
    )


def train_engagement(
    examples: pd.DataFrame,
    as_of: date,
    config: TrainConfig,
    progress: Callable[[str], None] = lambda _: None,
) -> TrainedModel:
    """Compare, select, calibrate and refit the engagement model on the calls."""
    examples = examples.reset_index(drop=True)
    train_mask, test_mask = engagement_time_split(examples["called_at"], as_of, config.engagement_test_days)
    train = examples[train_mask].reset_index(drop=True)
    test = examples[test_mask].reset_index(drop=True)
    if test.empty or train.empty:
        raise TooLittleData("engagement model: empty training or test period (too few calls?)")
    called_train = pd.to_datetime(train["called_at"])
    called_test = pd.to_datetime(test["called_at"])
    periods = {
        "train_rows": len(train),
        "test_rows": len(test),
        "train_periods": int(called_train.dt.to_period("M").nunique()),
        "test_periods": int(called_test.dt.to_period("M").nunique()),
        "train_start": called_train.min().date(),
        "train_end": called_train.max().date(),
        "test_start": held_out_start(as_of, config.engagement_test_days),
        "test_end": as_of,
        "period_unit": "calendar month of calls",
    }
    progress(
        f"engagement: {len(train)} training calls ({periods['train_start']}..{periods['train_end']}), "
        f"{len(test)} held out from {periods['test_start']}"
    )
    return fit_model(
        ENGAGEMENT,
        derive_engagement_features,
        ENGAGEMENT_SPEC,
        train,
        test,
        examples,
        label="is_engaged",
        group="patient_id",
        holdout_id=test["anchor_id"].astype(str),
        holdout_date=called_test,
        periods=periods,
        config=config,
        progress=progress,
    )


#: Best time to reach (study 003): hour windows [start, end) of the next-call grid. A
#: window's probability is the mean over its hours (a call at any hour in it), for each
#: weekday, on the patient's best channel.
REACH_WINDOWS: tuple[tuple[int, int], ...] = ((8, 11), (11, 14), (14, 17), (17, 20))
#: Grid rows scored per batch (bounded memory at scale 10).
_GRID_BATCH = 200_000


def best_time_to_reach(trained: TrainedModel, best_calls: pd.DataFrame) -> pd.DataFrame:
    """Per patient: the weekday x hour window with the highest predicted P(engaged).

    Why on the best channel only: the grid is patients x 7 weekdays x 12 hours; over three
    channels it would triple scoring. The channel is chosen first (as before), then its
    week is scored; for an additive model (the logistic regression the runs pick) the
    argmax is the same as over the full channel x weekday x hour grid. Every other feature
    stays that of the next call (the week after the as-of date). Ties go to the earliest
    weekday, then window.
    """
    hours = [h for start, end in REACH_WINDOWS for h in range(start, end)]
    window_of = np.repeat(np.arange(len(REACH_WINDOWS)), [end - start for start, end in REACH_WINDOWS])
    n, cells = len(best_calls), 7 * len(hours)
    if n == 0:
        return pd.DataFrame(columns=["best_weekday", "best_hour_start", "best_hour_end", "best_window_probability"])
    base = best_calls[trained.spec.columns].reset_index(drop=True)
    probability = np.empty(n * cells)
    per_batch = max(1, _GRID_BATCH // cells)
    weekday_grid = np.repeat(np.arange(7), len(hours))
    hour_grid = np.tile(np.asarray(hours), 7)
    for start in range(0, n, per_batch):
        chunk = base.iloc[start : start + per_batch]
        grid = chunk.loc[chunk.index.repeat(cells)].reset_index(drop=True)
        grid["call_weekday"] = np.tile(weekday_grid, len(chunk))
        grid["call_hour"] = np.tile(hour_grid, len(chunk))
        probability[start * cells : (start + len(chunk)) * cells] = trained.model.predict_proba(grid)[:, 1]
    by_hour = probability.reshape(n, 7, len(hours))
    by_window = np.stack([by_hour[:, :, window_of == w].mean(axis=2) for w in range(len(REACH_WINDOWS))], axis=2)
    flat = by_window.reshape(n, -1)
    best = flat.argmax(axis=1)  # first maximum: earliest weekday, then window
    weekday, window = np.divmod(best, len(REACH_WINDOWS))
    return pd.DataFrame(
        {
            "best_weekday": weekday.astype(np.int32),
            "best_hour_start": np.asarray([REACH_WINDOWS[w][0] for w in window], dtype=np.int32),
            "best_hour_end": np.asarray([REACH_WINDOWS[w][1] for w in window], dtype=np.int32),
            "best_window_probability": flat[np.arange(n), best],
        }
    )


def score_engagement(trained: TrainedModel, next_calls: pd.DataFrame, bands: RiskBands, k: int) -> pd.DataFrame:
    """Per active patient: probability per channel, best channel and its probability,
    risk decile and band of that probability, and the top factors of the best-channel call."""
    base_columns = ["patient_id", "probability", "best_channel", "risk_decile", "risk_band", "top_factors"]
    if next_calls.empty:
        return pd.DataFrame(columns=base_columns)
    frame = next_calls.reset_index(drop=True)
    X = frame[trained.spec.columns]
    frame["probability"] = trained.model.predict_proba(X)[:, 1]
    # best channel: highest probability; ties go to the alphabetically first channel
    frame = frame.sort_values(["patient_id", "probability", "channel"], ascending=[True, False, True], kind="stable")
    per_channel = frame.pivot(index="patient_id", columns="channel", values="probability")
    best = frame.drop_duplicates("patient_id", keep="first").reset_index(drop=True)
    X_best = best[trained.spec.columns]
    explained = candidate_factors(trained.importance, trained.spec)
    contributions = occlusion_contributions(trained.model, X_best, trained.spec, trained.reference, explained)
    names, payloads = top_factors(contributions, X_best, k)
    ids = best["patient_id"].astype(str).to_numpy()
    probability = best["probability"].to_numpy(dtype=float)
    deciles = risk_deciles(probability, ids)
    out = pd.DataFrame(
        {
            "patient_id": ids,
            "probability": probability,
            "best_channel": best["channel"].astype(str).to_numpy(),
            "risk_decile": deciles.astype(np.int32),
            "risk_band": [bands.band(int(d)) for d in deciles],
            "top_factors": payloads,
        }
    )
    for i in range(k):
        out[f"top_factor_{i + 1}"] = [row[i] for row in names]
    for channel in sorted(per_channel.columns):
        out[f"probability_{channel}"] = per_channel.loc[ids, channel].to_numpy(dtype=float)
    reach = best_time_to_reach(trained, best)
    for column in reach.columns:
        out[column] = reach[column].to_numpy()
    return out
