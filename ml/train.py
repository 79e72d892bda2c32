"""`ml train`: fit the churn and the engagement model on the warehouse and record the run.

Order matters for safety: read everything and close the database, fit (minutes, with the
file free for others), save the model file, then write every run row in one transaction.
A failure before the commit leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits

from . import churn, drift, engagement, extra_models, io, registry, segments, writeback
from .config import CHURN, ENGAGEMENT, TrainConfig
from .runs import run_frames


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _with_segments(frames: dict[str, pd.DataFrame], segment_frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The run's tables with the segmentation's rows appended (one transaction for all)."""
    out = dict(frames)
    for table, frame in segment_frames.items():
        out[table] = pd.concat([out[table], frame], ignore_index=True) if table in out else frame
    return out


def train(
    db_path: Path,
    model_dir: Path,
    as_of: date | None = None,
    seed: int = 42,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] = _print,
) -> dict[str, Any]:
    """Train both models and append the run to ml.model_runs; returns run id and metrics.

    as_of defaults to the warehouse's as-of date; an earlier date trains on what was known
    then (labels whose window closed by it, calls up to it): a backtest on the same data.
    """
    db_path, model_dir = Path(db_path), Path(model_dir)
    config = replace(config or TrainConfig(), seed=seed)
    info = io.warehouse_info(db_path)
    as_of = as_of or info.as_of
    if as_of > info.as_of:
        raise ValueError(f"as_of {as_of} is after the warehouse's as-of date {info.as_of}")
    progress(f"ml train: as of {as_of}, churn horizon {info.horizon_days} days, seed {seed}")

    churn_examples, test_cutoff, train_cutoffs = churn.load_examples(db_path, as_of, info.horizon_days, config)
    call_examples = engagement.load_examples(db_path, as_of, config)
    fingerprint = io.fingerprint(churn_examples, call_examples, pd.DataFrame({"as_of": [str(as_of)]}))
    run_id = registry.new_run_id(fingerprint)

    with threadpool_limits(limits=config.n_jobs):
        models = {
            CHURN: churn.train_churn(churn_examples, test_cutoff, train_cutoffs, config, progress),
            ENGAGEMENT: engagement.train_engagement(call_examples, as_of, config, progress),
        }
        segment_model = segments.train_segments(db_path, as_of, config)
        # care-pathway dropout and future Champions (ml/extra_models.py)
        extra_examples = extra_models.load_examples(db_path, as_of)
        others = extra_models.train_models(extra_examples, config, progress)
    progress(f"segments: k = {segment_model.k} ({segment_model.chosen_by}) on {segment_model.fit_rows} patients")
    # the frames the models learnt from, in bins, for the drift mart (ml/drift.py)
    baselines = {
        CHURN: drift.training_baselines(churn_examples, models[CHURN].spec),
        ENGAGEMENT: drift.training_baselines(call_examples, models[ENGAGEMENT].spec),
        **{name: drift.training_baselines(extra_examples[name], trained.spec) for name, trained in others.items()},
    }
    path = registry.model_path(model_dir, run_id)
    bundle = {
        "run_id": run_id,
        "trained_at": datetime.now(UTC).replace(tzinfo=None),
        "as_of": as_of,
        "horizon_days": info.horizon_days,
        "fingerprint": fingerprint,
        "config": config.as_json_dict(),
        "versions": {
            "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        "model_path": str(path.resolve()),
        "models": models,
        segments.SEGMENTS: segment_model,
        extra_models.BUNDLE_KEY: others,
        drift.BUNDLE_KEY: baselines,
    }
    registry.save(model_dir, run_id, bundle)
    tables = _with_segments(
        _with_segments(run_frames(bundle), segments.run_frames(bundle)), extra_models.run_frames(bundle)
    )
    tables = {**tables, **drift.run_frames(bundle)}
    written = writeback.write_tables(db_path, tables)
    progress(f"ml train: run {run_id} saved to {path} ({written['model_runs']} model rows written)")
    return {
        "run_id": run_id,
        "model_path": str(path),
        "as_of": as_of,
        "fingerprint": fingerprint,
        "models": {
            name: {
                "estimator": trained.estimator,
                "calibration": trained.calibration,
                "seconds": round(trained.seconds, 2),
                **{k: trained.metrics[k] for k in ("base_rate", "roc_auc", "pr_auc", "brier", "lift_top_decile")},
                **{k: trained.periods[k] for k in ("train_rows", "test_rows")},
            }
            for name, trained in {**models, **others}.items()
        },
    }
