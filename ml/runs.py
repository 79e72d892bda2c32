"""The rows a training run writes about itself, built from a saved bundle.

Why a separate pure module: train writes these rows right after fitting, and score
writes them again when it is given a model whose run is missing from the warehouse (a
fresh database, an old model file). Building them from the bundle alone keeps both paths
identical.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from .modeling import TrainedModel

_METRICS = (
    "base_rate",
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "threshold",
    "lift_top_decile",
    "calibration_error",
)


#: A memory address in a repr (`<function f at 0x7f...>`): differs between runs, says nothing.
_ADDRESS = re.compile(r" at 0x[0-9a-f]+")


def _stable_repr(value: object) -> str:
    """repr without memory addresses, so the same training run records the same params
    (tests/test_determinism.py compares ml.model_runs between two runs)."""
    return _ADDRESS.sub("", repr(value))


def _clean(value: Any) -> Any:
    """JSON-safe scalars (NaN becomes null)."""
    if isinstance(value, float) and value != value:
        return None
    return value


def run_frames(bundle: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """model_runs, model_candidates, feature_importance and holdout_predictions rows."""
    run_id = bundle["run_id"]
    if not bundle.get("model_sha256"):
        raise ValueError(f"run {run_id} has no model_sha256: save the bundle with registry.save first")
    runs, candidates, importance, holdout = [], [], [], []
    for name, trained in bundle["models"].items():
        trained: TrainedModel
        runs.append(
            {
                "run_id": run_id,
                "model_name": name,
                "estimator": trained.estimator,
                "calibration": trained.calibration,
                "trained_at": bundle["trained_at"],
                "as_of_date": bundle["as_of"],
                **{k: v for k, v in trained.periods.items()},
                "final_rows": trained.final_rows,
                **{k: _clean(trained.metrics.get(k)) for k in _METRICS},
                "selection_metric": bundle["config"]["selection_metric"],
                "params": json.dumps(
                    {
                        "config": bundle["config"],
                        "estimator_params": {
                            k: (v if isinstance(v, (int, float, str, bool, type(None))) else _stable_repr(v))
                            for k, v in trained.model.get_params(deep=False).items()
                            if k != "estimator"
                        },
                        "pipeline": _stable_repr(trained.model.estimator),
                        "versions": bundle["versions"],
                    },
                    sort_keys=True,
                    default=str,
                ),
                "features": json.dumps(
                    {"categorical": list(trained.spec.categorical), "numeric": list(trained.spec.numeric)}
                ),
                "data_fingerprint": bundle["fingerprint"],
                "model_path": bundle["model_path"],
                "model_sha256": bundle["model_sha256"],
                "fit_seconds": round(trained.seconds, 3),
            }
        )
        for candidate in trained.candidates:
            candidates.append({"run_id": run_id, "model_name": name, **{k: _clean(v) for k, v in candidate.items()}})
        frame = trained.importance.copy()
        frame.insert(0, "model_name", name)
        frame.insert(0, "run_id", run_id)
        importance.append(frame)
        rows = trained.holdout.copy()
        rows.insert(0, "model_name", name)
        rows.insert(0, "run_id", run_id)
        holdout.append(rows)
    return {
        "model_runs": pd.DataFrame(runs),
        "model_candidates": pd.DataFrame(candidates),
        "feature_importance": pd.concat(importance, ignore_index=True),
        "holdout_predictions": pd.concat(holdout, ignore_index=True),
    }
