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

from typing import Any

import numpy as np
import pandas as pd

from .encoded import calibrated_proba, cell_columns, pipeline_parts


def score_grid(model: Any, base: pd.DataFrame, cells: pd.DataFrame, batch_rows: int = 200_000) -> np.ndarray:
    """P(class 1) of every (base row, cell) pair, shape (len(base), len(cells)): the base row
    with the cells' columns set to the cell's values."""
    base = base.reset_index(drop=True)
    n, m = len(base), len(cells)
    out = np.empty((n, m))
    if n == 0:
        return out
    per_batch = max(1, batch_rows // m)
    parts = pipeline_parts(model)
    vary = cell_columns(parts[1], list(cells.columns)) if parts else None
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
                out[start : start + len(encoded)] = calibrated_proba(calibrated, grid).reshape(-1, m)
            return out
    for start in range(0, n, per_batch):
        chunk = base.iloc[start : start + per_batch]
        grid = chunk.loc[chunk.index.repeat(m)].reset_index(drop=True)
        for column in cells.columns:
            grid[column] = np.tile(cells[column].to_numpy(), len(chunk))
        out[start : start + len(chunk)] = model.predict_proba(grid)[:, 1].reshape(-1, m)
    return out
