"""Time-based validation, candidate estimators, calibration and model choice.

Why time-based: the models are used on the future. A random split lets a model learn a
patient's later months while being tested on their earlier ones; a split by time tests
exactly what deployment does. For churn the training cutoffs must also have their label
windows closed by the test cutoff: on the test date nobody could know later labels yet.

Why calibrate: outreach_priority multiplies P(churn) by P(engage) into an expected value;
that is only meaningful when a 0.3 means 30%. Each candidate is fitted on most patients
and calibrated on a held-out slice of the others (a patient's rows never sit on both
sides), isotonic when there is enough data and Platt (sigmoid) otherwise. One fit per
candidate, where k grouped folds cost k + 1 fits for the same calibrated probabilities.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from .config import TrainConfig
from .metrics import classification_metrics

Derive = Callable[[pd.DataFrame], pd.DataFrame]


class TooLittleData(ValueError):
    """The data cannot train this model honestly (no held-out period, or one class only).

    A class of its own so that callers can tell "more data is needed" from a bug: the
    optional models (ml/extra_models.py) are then left out of the run with this message,
    while the churn and engagement models still stop the build.
    """


# --------------------------------------------------------------------------- time splits
@dataclass(frozen=True)
class ChurnSplit:
    """Cutoffs used for training and the single held-out test cutoff."""

    train_cutoffs: tuple[date, ...]
    test_cutoff: date


def churn_time_split(labelled_cutoffs: Sequence[date], horizon_days: int) -> ChurnSplit:
    """Test on the latest labelled cutoff; train on those whose label window closed by then.

    Raises TooLittleData when there is not at least one training cutoff, with the reason.
    """
    cutoffs = sorted(set(labelled_cutoffs))
    if len(cutoffs) < 2:
        raise TooLittleData(
            f"churn model needs at least two labelled cutoffs (found {len(cutoffs)}): "
            f"the history must cover more than {horizon_days} days after the first cutoff"
        )
    test = cutoffs[-1]
    train = tuple(c for c in cutoffs if c + timedelta(days=horizon_days) <= test)
    if not train:
        raise TooLittleData(
            f"no training cutoff has its {horizon_days}-day label window closed by the test cutoff {test}; "
            "more history is needed"
        )
    return ChurnSplit(train_cutoffs=train, test_cutoff=test)


def engagement_time_split(called_at: pd.Series, as_of: date, test_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): calls in the last test_days before the as-of date are held out."""
    boundary = pd.Timestamp(as_of) + pd.Timedelta(days=1) - pd.Timedelta(days=test_days)
    at = pd.to_datetime(called_at)
    test = (at >= boundary).to_numpy()
    return ~test, test


def cap_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """A deterministic random sample of at most max_rows rows, in the original order."""
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).sort_index()


# --------------------------------------------------------------------------- estimators
def derived_columns(derive: Derive, sample: pd.DataFrame, categorical: Sequence[str]) -> tuple[list[str], list[str]]:
    """(categorical, numeric) column names of the derived frame; categoricals keep their
    raw names, everything else derive() makes is numeric."""
    names = list(derive(sample.head(20)).columns)
    cats = [c for c in names if c in set(categorical)]
    return cats, [c for c in names if c not in set(categorical)]


def make_pipeline(
    name: str, derive: Derive, categorical: list[str], numeric: list[str], config: TrainConfig, n_rows: int
) -> Pipeline:
    """The uncalibrated pipeline of one candidate: derive -> encode -> estimator.

    n_rows (the training set size) sizes the forest's per-tree sample."""
    if name == "logistic_regression":
        encode = ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                ("num", StandardScaler(), numeric),
            ]
        )
        model: Any = LogisticRegression(C=0.5, max_iter=3000)
    elif name == "random_forest":
        encode = ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
                ("num", "passthrough", numeric),
            ]
        )
        model = RandomForestClassifier(
            n_estimators=config.rf_trees,
            min_samples_leaf=config.rf_min_samples_leaf,
            max_features="sqrt",
            max_samples=min(0.5, config.rf_rows_per_tree / max(n_rows, 1)),
            n_jobs=config.n_jobs,
            random_state=config.seed,
        )
    elif name == "hist_gradient_boosting":
        encode = ColumnTransformer(
            [
                ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan), categorical),
                ("num", "passthrough", numeric),
            ]
        )
        model = HistGradientBoostingClassifier(
            learning_rate=config.hgb_learning_rate,
            max_iter=config.hgb_max_iter,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            categorical_features=[True] * len(categorical) + [False] * len(numeric),
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=20,
            random_state=config.seed,
        )
    else:
        raise ValueError(f"unknown candidate estimator {name!r}")
    return Pipeline(
        [
            ("derive", FunctionTransformer(derive, validate=False)),
            ("encode", encode),
            ("model", model),
        ]
    )


def calibration_method(n_rows: int, config: TrainConfig) -> str:
    """Isotonic needs many rows to be stable; below the threshold use Platt scaling."""
    return "isotonic" if n_rows >= config.isotonic_min_rows else "sigmoid"


def calibration_slice(groups: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Boolean mask of the calibration rows: every row of a deterministic `share` of the
    groups (patients), chosen by a seeded hash of the group id, so the same data and seed
    always give the same slice and no patient sits on both sides."""
    key = f"carepulse{seed:07d}"[-16:]
    hashed = pd.util.hash_array(np.asarray(groups, dtype=object), hash_key=key, categorize=True)
    return (hashed % 1_000_000) < int(share * 1_000_000)


def fit_calibrated(
    name: str,
    derive: Derive,
    categorical: Sequence[str],
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    config: TrainConfig,
) -> CalibratedClassifierCV:
    """Fit one candidate on most patients and calibrate it on the held-out slice.

    The calibrator sees only scores of patients the estimator never saw, which is what
    cross-validated calibration buys, at the cost of one fit instead of folds + 1.
    """
    calibrate = calibration_slice(groups, config.calibration_share, config.seed)
    fit = ~calibrate
    for part, mask in (("fitting", fit), ("calibration", calibrate)):
        if len(np.unique(y[mask])) < 2:
            raise TooLittleData(
                f"{name}: the {part} part of the training rows has only one class "
                f"({int(mask.sum())} rows); more data is needed"
            )
    cats, nums = derived_columns(derive, X, categorical)
    pipeline = make_pipeline(name, derive, cats, nums, config, int(fit.sum()))
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipeline), method=calibration_method(len(X), config))
    with threadpool_limits(limits=config.n_jobs):
        pipeline.fit(X.loc[fit], y[fit])
        calibrated.fit(X.loc[calibrate], y[calibrate])
    return calibrated


# --------------------------------------------------------------------------- comparison
@dataclass
class CandidateResult:
    """One candidate's held-out performance (and its fitted model while in memory)."""

    estimator: str
    metrics: dict[str, float]
    fit_seconds: float
    calibration: str
    test_probability: np.ndarray = field(repr=False)
    model: CalibratedClassifierCV | None = field(default=None, repr=False)


def compare_candidates(
    derive: Derive,
    categorical: Sequence[str],
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    groups_train: np.ndarray,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    config: TrainConfig,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CandidateResult]:
    """Fit every candidate on the training period and score it on the held-out period."""
    results = []
    for name in config.candidates:
        started = time.perf_counter()
        model = fit_calibrated(name, derive, categorical, X_train, y_train, groups_train, config)
        seconds = time.perf_counter() - started
        with threadpool_limits(limits=config.n_jobs):
            probability = model.predict_proba(X_test)[:, 1]
        metrics = classification_metrics(y_test, probability)
        progress(f"  {name}: roc_auc={metrics['roc_auc']:.4f} brier={metrics['brier']:.4f} ({seconds:.1f}s)")
        results.append(
            CandidateResult(
                estimator=name,
                metrics=metrics,
                fit_seconds=seconds,
                calibration=calibration_method(len(X_train), config),
                test_probability=probability,
                model=model,
            )
        )
    return results


def select_candidate(results: Sequence[CandidateResult], metric: str, simpler_within: float) -> CandidateResult:
    """The best candidate by a higher-is-better metric; the earliest (simplest) candidate
    within `simpler_within` of the best wins, so complexity has to earn its place.
    NaN metrics (a one-class test set) rank last."""
    if not results:
        raise ValueError("no candidates to select from")

    def value(result: CandidateResult) -> float:
        v = result.metrics.get(metric, float("nan"))
        return -np.inf if v is None or np.isnan(v) else float(v)

    best = max(value(r) for r in results)
    for result in results:  # config order = simplest first
        if value(result) >= best - simpler_within:
            return result
    return results[0]
