"""Score a grid of hypothetical rows: each base row repeated once per cell, the cells differing
only in a few categorical columns (best time to reach: weekday x hour).

Why not predict_proba on the repeated rows: the grid is patients x 84 cells, over two
million rows at scale 1, and most of that cost is the pipeline re-deriving and re-encoding
the same patient columns 84 times (string categoricals, one-hot). The encoders work column
by column, so a grid row's encoding is the base row's encoding with the cell columns' blocks
replaced: encode each base row once and each cell once, assemble, and apply the fitted
estimator and its calibrators to the assembled matrix. When the fitted model is not the
shape this relies on (a calibrated derive -> encode -> estimator pipeline whose categorical
encoder gives one block per column, and whose other encoded columns do not depend on the
cell columns), it falls back to scoring the repeated rows: same numbers, just slower.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder


def _pipeline_parts(model: Any) -> tuple[Any, Any, list[Any]] | None:
    """(preprocessing, encoder, calibrated classifiers) of a calibrated pipeline, or None."""
    calibrated = getattr(model, "calibrated_classifiers_", None)
    if not calibrated:
        return None
    pipelines = [getattr(c.estimator, "estimator", c.estimator) for c in calibrated]
    steps = [dict(getattr(p, "named_steps", {})) for p in pipelines]
    if any(set(s) != {"derive", "encode", "model"} for s in steps) or len({id(p) for p in pipelines}) != 1:
        return None
    return pipelines[0][:-1], steps[0]["encode"], calibrated


def _cell_columns(encode: Any, columns: Sequence[str]) -> np.ndarray | None:
    """Indices of the encoded columns that `columns` (categoricals) produce, or None."""
    if "cat" not in getattr(encode, "named_transformers_", {}):
        return None
    cat = encode.named_transformers_["cat"]
    names = list(getattr(cat, "feature_names_in_", []))
    if isinstance(cat, OneHotEncoder) and cat.drop is None and not getattr(cat, "infrequent_categories_", None):
        widths = [len(c) for c in cat.categories_]
    elif isinstance(cat, OrdinalEncoder):
        widths = [1] * len(names)
    else:
        return None
    block = encode.output_indices_["cat"]
    if sum(widths) != block.stop - block.start or not set(columns) <= set(names):
        return None
    starts = block.start + np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
    return np.concatenate([np.arange(s, s + w) for s, w, n in zip(starts, widths, names, strict=True) if n in columns])


def _calibrated_proba(calibrated: list[Any], encoded: np.ndarray) -> np.ndarray:
    """P(class 1) of encoded rows: each calibrated classifier with its pipeline's fitted final
    estimator in place of the pipeline (same response, same calibrators), averaged."""
    total = np.zeros(len(encoded))
    for classifier in calibrated:
        final = copy.copy(classifier)
        final.estimator = getattr(classifier.estimator, "estimator", classifier.estimator)[-1]
        total += final.predict_proba(encoded)[:, 1]
    return total / len(calibrated)


def score_grid(model: Any, base: pd.DataFrame, cells: pd.DataFrame, batch_rows: int = 200_000) -> np.ndarray:
    """P(class 1) of every (base row, cell) pair, shape (len(base), len(cells)): the base row
    with the cells' columns set to the cell's values."""
    base = base.reset_index(drop=True)
    n, m = len(base), len(cells)
    out = np.empty((n, m))
    if n == 0:
        return out
    per_batch = max(1, batch_rows // m)
    parts = _pipeline_parts(model)
    vary = _cell_columns(parts[1], list(cells.columns)) if parts else None
    if parts is not None and vary is not None:
        prep, _, calibrated = parts
        examples = base.iloc[np.zeros(m, dtype=int)].reset_index(drop=True)
        examples[list(cells.columns)] = cells.to_numpy()
        cell_encoded = np.asarray(prep.transform(examples), dtype=float)
        fixed = np.setdiff1d(np.arange(cell_encoded.shape[1]), vary)
        if np.array_equal(cell_encoded[:, fixed], np.repeat(cell_encoded[:1, fixed], m, axis=0)):
            for start in range(0, n, per_batch):
                encoded = np.asarray(prep.transform(base.iloc[start : start + per_batch]), dtype=float)
                grid = np.repeat(encoded, m, axis=0)
                grid[:, vary] = np.tile(cell_encoded[:, vary], (len(encoded), 1))
                out[start : start + len(encoded)] = _calibrated_proba(calibrated, grid).reshape(-1, m)
            return out
    for start in range(0, n, per_batch):
        chunk = base.iloc[start : start + per_batch]
        grid = chunk.loc[chunk.index.repeat(m)].reset_index(drop=True)
        for column in cells.columns:
            grid[column] = np.tile(cells[column].to_numpy(), len(chunk))
        out[start : start + len(chunk)] = model.predict_proba(grid)[:, 1].reshape(-1, m)
    return out
