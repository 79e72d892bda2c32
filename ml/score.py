"""`ml score`: predictions for every active patient at the warehouse's as-of date.

Why scoring is separate from training: the care team's list must refresh when new data
arrives even if nobody retrains. Scoring loads a saved model by run id (default: the
latest run recorded in the warehouse; the file must match the SHA-256 recorded in
ml.model_runs, see registry.load), scores churn and engagement for the same population (patients not
churned at the as-of date) and writes both tables in one transaction. Re-scoring the
same run at the same as-of date replaces that batch instead of duplicating it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from . import churn, drift, engagement, extra_models, io, registry, writeback
from .config import CHURN, ENGAGEMENT, RiskBands


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_run_id(db_path: Path, run_id: str | None) -> str:
    """The given run id, else the latest run recorded in the warehouse.

    Only recorded runs: a model file is loaded only when ml.model_runs holds its SHA-256
    (registry.load), so a file the warehouse does not know of could never be used anyway.
    """
    if run_id:
        return run_id
    recorded = writeback.latest_run_id(db_path)
    if recorded is None:
        raise FileNotFoundError(
            f"no training run recorded in {db_path} (ml.model_runs): run `python -m ml train` first"
        )
    return recorded


def score(
    db_path: Path,
    model_dir: Path,
    run_id: str | None = None,
    progress: Callable[[str], None] = _print,
) -> dict[str, Any]:
    """Score with a saved run and write ml.churn_predictions and ml.engagement_predictions."""
    db_path, model_dir = Path(db_path), Path(model_dir)
    run_id = resolve_run_id(db_path, run_id)
    bundle = registry.load(model_dir, run_id, writeback.recorded_model_sha256(db_path, run_id))
    info = io.warehouse_info(db_path)
    bands = RiskBands()
    k = int(bundle["config"].get("top_factors", 3))
    progress(f"ml score: run {run_id} at as-of {info.as_of}")

    churn_model = bundle["models"][CHURN]
    engagement_model = bundle["models"][ENGAGEMENT]
    churn_rows, next_calls = io.read_churn_scoring(db_path), io.read_next_calls(db_path)
    with threadpool_limits(limits=int(bundle["config"].get("n_jobs", 1))):
        churn_scores = churn.score_churn(churn_model, churn_rows, bands, k)
        engagement_scores = engagement.score_engagement(engagement_model, next_calls, bands, k)
        # care-pathway dropout and future Champions (none for bundles saved before them)
        extra_rows = extra_models.scoring_rows(db_path, bundle)
        extra_scores = extra_models.score_frames(bundle, extra_rows, k)
    scored_at = datetime.now(UTC).replace(tzinfo=None)
    for frame, trained in ((churn_scores, churn_model), (engagement_scores, engagement_model)):
        frame["model_name"] = trained.model_name
        frame["estimator"] = trained.estimator
    for frame in (churn_scores, engagement_scores, *extra_scores.values()):
        frame["run_id"] = run_id
        frame["as_of_date"] = info.as_of
        frame["scored_at"] = scored_at

    # the scored frames in the training frames' bins (drift monitoring; none for old bundles)
    distributions = drift.scoring_frames(bundle, {CHURN: churn_rows, ENGAGEMENT: next_calls, **extra_rows})
    distributions["run_id"], distributions["as_of_date"], distributions["scored_at"] = run_id, info.as_of, scored_at

    frames = {
        "churn_predictions": churn_scores,
        "engagement_predictions": engagement_scores,
        "feature_distributions": distributions,
        **extra_scores,
    }
    batch = ("run_id = ? and as_of_date = ?", [run_id, info.as_of])
    written = writeback.write_tables(db_path, frames, replace_where=dict.fromkeys(frames, batch))
    progress(
        f"ml score: {written['churn_predictions']} churn and {written['engagement_predictions']} "
        f"engagement predictions written for run {run_id}"
    )
    return {
        "run_id": run_id,
        "as_of": info.as_of,
        "churn_predictions": written["churn_predictions"],
        "engagement_predictions": written["engagement_predictions"],
        **{table: written[table] for table in extra_scores},
        "mean_churn_probability": float(churn_scores["probability"].mean()) if len(churn_scores) else None,
        "mean_engage_probability": float(engagement_scores["probability"].mean()) if len(engagement_scores) else None,
    }
