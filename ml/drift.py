"""Feature distributions for drift monitoring: the training frame's bins and the scoring frame's shares.

Why bins are fixed at training time and written to the warehouse: the population stability
index (PSI) compares a scoring frame with the frame the model learnt from, bin by bin, so
both must be cut by the same edges. Training records each feature's edges and the share of
training rows per bin (ml.feature_baselines); scoring puts its own rows into those bins
(ml.feature_distributions). The PSI itself is computed in SQL by the mart
`model_feature_drift`, so an analyst can recompute it with other thresholds or
windows. Everything here is a pure function of the frames.

Numeric features: edges are the distinct deciles of the training values (a column that
is mostly zero has fewer bins); bin 1 is below the first edge, the last bin is at or
above the last edge, so every value has a bin. Categorical features: one bin per
training category (sorted) and a bin "(other)" with no training rows for categories
the training frame never had. Missing values have bin 0 in both kinds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import FeatureSpec

#: Quantiles whose values are the numeric bin edges (deciles).
EDGE_QUANTILES = tuple(q / 10 for q in range(1, 10))
MISSING_BIN = 0
MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"

BASELINE_COLUMNS = [
    "feature",
    "feature_kind",
    "bin_index",
    "bin_label",
    "lower_edge",
    "upper_edge",
    "training_rows",
    "training_share",
]
SHARE_COLUMNS = ["feature", "bin_index", "scoring_rows", "scoring_share"]


def _format_edge(value: float) -> str:
    return f"{value:.6g}"


def _numeric_bins(values: pd.Series) -> list[dict]:
    present = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    edges = sorted(set(np.quantile(present, EDGE_QUANTILES).tolist())) if len(present) else []
    bounds = [None, *edges, None]
    bins = []
    for index in range(len(bounds) - 1):
        lower, upper = bounds[index], bounds[index + 1]
        label = (
            f"[{'-inf' if lower is None else _format_edge(lower)}, {'inf' if upper is None else _format_edge(upper)})"
        )
        bins.append({"bin_index": index + 1, "bin_label": label, "lower_edge": lower, "upper_edge": upper})
    return bins


def _categorical_bins(values: pd.Series) -> list[dict]:
    categories = sorted(values.dropna().astype(str).unique().tolist())
    labels = [*categories, OTHER_LABEL]
    return [
        {"bin_index": i + 1, "bin_label": label, "lower_edge": None, "upper_edge": None}
        for i, label in enumerate(labels)
    ]


def _assign(values: pd.Series, bins: pd.DataFrame, kind: str) -> np.ndarray:
    """The bin index of every value (MISSING_BIN for a missing one)."""
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        edges = bins.sort_values("bin_index")["lower_edge"].dropna().to_numpy(dtype=float)
        index = np.searchsorted(edges, numbers, side="right") + 1
        return np.where(np.isnan(numbers), MISSING_BIN, index)
    lookup = dict(zip(bins["bin_label"], bins["bin_index"], strict=True))
    other = lookup[OTHER_LABEL]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = list(uniques)
    if values.dtype.kind in "iub" or all(type(u) is str for u in distinct):
        # one lookup per distinct value (equal values have equal text for these types)
        index = np.array([lookup.get(str(u), other) for u in distinct] + [MISSING_BIN], dtype=np.int64)
        return index[codes]  # code -1 (missing) picks the trailing MISSING_BIN
    return np.array(
        [MISSING_BIN if pd.isna(v) else lookup.get(str(v), other) for v in values.to_numpy()], dtype=np.int64
    )


def _counts(assigned: np.ndarray, bin_indexes: list[int]) -> tuple[list[int], list[float]]:
    total = len(assigned)
    counts = [int((assigned == b).sum()) for b in bin_indexes]
    return counts, [c / total if total else 0.0 for c in counts]


def training_baselines(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """Per feature of spec: the bins of the training frame and its rows and share per bin."""
    rows = []
    for kind, columns in (("categorical", spec.categorical), ("numeric", spec.numeric)):
        for feature in columns:
            values = frame[feature]
            bins = _numeric_bins(values) if kind == "numeric" else _categorical_bins(values)
            bins = [
                {"bin_index": MISSING_BIN, "bin_label": MISSING_LABEL, "lower_edge": None, "upper_edge": None},
                *bins,
            ]
            assigned = _assign(values, pd.DataFrame(bins), kind)
            counts, shares = _counts(assigned, [b["bin_index"] for b in bins])
            for item, count, share in zip(bins, counts, shares, strict=True):
                rows.append(
                    {"feature": feature, "feature_kind": kind, **item, "training_rows": count, "training_share": share}
                )
    return pd.DataFrame(rows, columns=BASELINE_COLUMNS)


def frame_shares(frame: pd.DataFrame, baselines: pd.DataFrame) -> pd.DataFrame:
    """The frame's rows and share per baseline bin of every feature (same bins, so PSI applies)."""
    rows = []
    for feature, bins in baselines.groupby("feature", sort=False):
        kind = str(bins["feature_kind"].iloc[0])
        assigned = _assign(frame[feature], bins, kind)
        indexes = bins["bin_index"].astype(int).tolist()
        counts, shares = _counts(assigned, indexes)
        rows.extend(
            {"feature": feature, "bin_index": b, "scoring_rows": c, "scoring_share": s}
            for b, c, s in zip(indexes, counts, shares, strict=True)
        )
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def population_stability_index(expected: np.ndarray, actual: np.ndarray, floor: float = 1e-4) -> float:
    """PSI = sum over bins of (actual - expected) * ln(actual / expected), shares floored at
    `floor` so an empty bin counts as rare rather than infinite (the mart uses the same
    rule with var psi_share_floor; this is the reference for tests and the bench)."""
    e = np.maximum(np.asarray(expected, dtype=float), floor)
    a = np.maximum(np.asarray(actual, dtype=float), floor)
    return float(np.sum((a - e) * np.log(a / e)))


#: Key of the per-model baselines in a saved model bundle (bundles saved before drift
#: monitoring have none: scoring with them writes no distributions).
BUNDLE_KEY = "feature_baselines"


def run_frames(bundle: dict) -> dict[str, pd.DataFrame]:
    """ml.feature_baselines rows of a run: every model's training bins under its run id."""
    parts = []
    for model_name, baselines in (bundle.get(BUNDLE_KEY) or {}).items():
        rows = baselines.copy()
        rows.insert(0, "model_name", model_name)
        rows.insert(0, "run_id", bundle["run_id"])
        parts.append(rows)
    return {"feature_baselines": pd.concat(parts, ignore_index=True)} if parts else {}


def scoring_frames(bundle: dict, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """ml.feature_distributions rows (without run id, as-of and time): each model's scoring
    frame (frames[model_name]) in the bins of the run's training frame."""
    parts = []
    for model_name, baselines in (bundle.get(BUNDLE_KEY) or {}).items():
        shares = frame_shares(frames[model_name], baselines)
        shares.insert(0, "model_name", model_name)
        parts.append(shares)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model_name", *SHARE_COLUMNS])
