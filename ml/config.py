"""Settings of the ML step: the knobs of training (paths come from carepulse.config.Settings).

Why a frozen dataclass: train and score must agree on every choice that shapes a model
(seed, candidate list, row caps), and the chosen values are written to ml.model_runs as
JSON so that any run can be explained later. Defaults are the documented production
choices; tests pass smaller values explicitly instead of patching anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Estimators compared for each model, simplest first: on a tie the simpler one wins.
CANDIDATES: tuple[str, ...] = ("logistic_regression", "random_forest", "hist_gradient_boosting")

#: Model names as written to ml.model_runs.model_name.
CHURN = "churn"
ENGAGEMENT = "engagement"


@dataclass(frozen=True)
class TrainConfig:
    """Every training choice; recorded with each run."""

    seed: int = 42
    candidates: tuple[str, ...] = CANDIDATES
    #: Selection: highest held-out ROC AUC; a simpler candidate within this margin wins
    #: (explainability, as the insurer study preferred a logistic regression).
    selection_metric: str = "roc_auc"
    simpler_within: float = 0.005
    #: Training rows are capped by a deterministic sample, so scale 10 trains in minutes.
    max_train_rows: int = 250_000
    max_test_rows: int = 200_000
    #: Engagement: calls in the last this-many days before the as-of date are held out.
    engagement_test_days: int = 90
    #: Candidates are compared on a deterministic sample of at most this many training
    #: rows (all three on the same rows); only the winner is refitted on every labelled
    #: row. Measured at seed 42, scale 1 (with the calibration slice below): held-out ROC
    #: AUC of the selected model 0.0003 (churn) and 0.0012 (engagement) below comparing on
    #: every row with 3-fold calibration, at a fraction of the time (docs/benchmarks).
    compare_rows: int = 60_000
    #: Calibration: isotonic with at least this many training rows, else sigmoid (Platt),
    #: fitted on a held-out slice of this share of the patients (their rows are never
    #: used to fit the estimator): one fit per model instead of one per fold.
    isotonic_min_rows: int = 20_000
    calibration_share: float = 0.2
    #: Random forest and gradient boosting sizes. The forest is the slowest candidate and
    #: never the best here: 50 trees of 10,000 rows each cost a fifth of 100 x 30,000 for
    #: a held-out ROC AUC 0.0013 (churn) and 0.004 (engagement) lower (seed 42, scale 1).
    rf_trees: int = 50
    rf_min_samples_leaf: int = 50
    #: Rows each tree sees (bootstrap subsample, at most half the training rows): most of
    #: the forest's accuracy at a fraction of the time on large training sets.
    rf_rows_per_tree: int = 10_000
    hgb_max_iter: int = 300
    hgb_learning_rate: float = 0.06
    #: Threads for estimators and BLAS/OpenMP, default 1 (a shared machine; OpenMP spinning
    #: on busy cores is slower than one thread). CAREPULSE_ML_THREADS reaches it through
    #: carepulse.config.Settings.ml_threads (the CLI and `python -m ml` pass it); the library
    #: itself reads no environment. Keep it fixed between runs that must match bit for bit
    #: (BLAS sums in thread order).
    n_jobs: int = 1
    #: Permutation importance repeats on a sample of this many held-out rows.
    importance_repeats: int = 3
    importance_rows: int = 5_000
    #: Per-row top factors reported with each prediction.
    top_factors: int = 3
    #: Behavioural segments (ml/segments.py): k fixed by this setting (ml_segments_k;
    #: `python -m ml train --segments-k`), else the best silhouette over segments_k_range.
    #: K-means is fitted on a seeded sample of segments_fit_rows patients and the
    #: silhouette measured on segments_silhouette_rows of them (it costs n^2); the whole
    #: population is then assigned to the nearest centre.
    segments_k: int | None = None
    segments_k_range: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
    segments_fit_rows: int = 30_000
    segments_silhouette_rows: int = 4_000
    segments_n_init: int = 4
    #: Care-pathway dropout (ml/dropout.py): the latest this-many labelled monthly cutoffs
    #: are held out (one cutoff is a few hundred examples on small data).
    dropout_test_cutoffs: int = 3
    #: Future Champions (ml/champions.py): the latest this-many labelled month ends are held out.
    champion_test_months: int = 3

    def as_json_dict(self) -> dict[str, Any]:
        """Plain-JSON form for ml.model_runs.params."""
        out = asdict(self)
        out["candidates"] = list(self.candidates)
        out["segments_k_range"] = list(self.segments_k_range)
        return out


@dataclass(frozen=True)
class RiskBands:
    """Risk bands from deciles (10 = highest): a stable worklist size whatever the base rate."""

    high_from_decile: int = 9
    medium_from_decile: int = 6
    labels: tuple[str, str, str] = field(default=("high", "medium", "low"))

    def band(self, decile: int) -> str:
        if decile >= self.high_from_decile:
            return self.labels[0]
        if decile >= self.medium_from_decile:
            return self.labels[1]
        return self.labels[2]
