"""Scoring a fitted calibrated pipeline through its encoded matrix.

Why: every model ml train saves is a calibrated derive -> encode -> estimator pipeline, and
most of a prediction's cost is the pipeline deriving and encoding the rows (string
categoricals, one-hot), not the estimator's arithmetic. When many variants of the same
rows are scored (the best-time-to-reach grid: one per weekday x hour cell; the occlusion
explanations: one per explained column), most encoded columns are the same in every
variant: encode the rows once and replace only the blocks a variant changes. The encoders
work column by column, so the assembled matrix is the one the pipeline would have built,
and the fitted estimator and its calibrators applied to it give the same numbers.
When a model is not that shape these helpers say so (None) and callers score the plain way.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder


def pipeline_parts(model: Any) -> tuple[Any, Any, list[Any]] | None:
    """(preprocessing, encoder, calibrated classifiers) of a calibrated pipeline, or None."""
    calibrated = getattr(model, "calibrated_classifiers_", None)
    if not calibrated:
        return None
    pipelines = [getattr(c.estimator, "estimator", c.estimator) for c in calibrated]
    steps = [dict(getattr(p, "named_steps", {})) for p in pipelines]
    if any(set(s) != {"derive", "encode", "model"} for s in steps) or len({id(p) for p in pipelines}) != 1:
        return None
    return pipelines[0][:-1], steps[0]["encode"], calibrated


def categorical_blocks(encode: Any) -> dict[str, np.ndarray] | None:
    """Encoded column indices of each input column of the encoder's "cat" transformer (one
    block per column: a one-hot without drop or infrequent categories, or an ordinal
    encoder), or None when it has no such transformer."""
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
    if sum(widths) != block.stop - block.start:
        return None
    starts = block.start + np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
    return {n: np.arange(s, s + w) for s, w, n in zip(starts, widths, names, strict=True)}


def calibrated_proba(calibrated: list[Any], encoded: np.ndarray) -> np.ndarray:
    """P(class 1) of encoded rows: each calibrated classifier with its pipeline's fitted final
    estimator in place of the pipeline (same response, same calibrators), averaged."""
    total = np.zeros(len(encoded))
    for classifier in calibrated:
        final = copy.copy(classifier)
        final.estimator = getattr(classifier.estimator, "estimator", classifier.estimator)[-1]
        total += final.predict_proba(encoded)[:, 1]
    return total / len(calibrated)


def _same(left: pd.Series, right: pd.Series) -> bool:
    """Equal values in every row, missing where the other is missing."""
    a, b = left.to_numpy(), right.to_numpy()
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(left.equals(right))


def _constant(values: pd.Series) -> bool:
    return len(values) == 0 or bool((values == values.iloc[0]).all())


def _reencode(encode: Any, derived: pd.DataFrame, encoded: np.ndarray, variant: pd.DataFrame) -> np.ndarray:
    """The encoded matrix of `variant` (derived rows), from that of `derived` with only the
    blocks of changed columns recomputed: a categorical column set to one value for every row
    from one encoded row, any other changed transformer input by that transformer."""
    changed = {c for c in variant.columns if not _same(variant[c], derived[c])}
    if not changed:
        return encoded
    out = encoded.copy()
    blocks = categorical_blocks(encode) or {}
    for name, transformer, columns in encode.transformers_:
        columns = list(columns)
        touched = [c for c in columns if c in changed]
        if transformer == "drop" or not touched:
            continue
        where = encode.output_indices_[name]
        if name == "cat" and all(c in blocks and _constant(variant[c]) for c in touched):
            row = derived[columns].iloc[:1].copy()
            for c in touched:
                row[c] = variant[c].iloc[:1].to_numpy()
            one = np.asarray(transformer.transform(row), dtype=float)[0]
            for c in touched:
                out[:, blocks[c]] = one[blocks[c] - where.start]
        elif transformer == "passthrough":
            out[:, where] = variant[columns].to_numpy(dtype=float)
        else:
            out[:, where] = np.asarray(transformer.transform(variant[columns]), dtype=float)
    return out


def variant_probabilities(
    model: Any, X: pd.DataFrame, variants: Iterable[tuple[str, pd.DataFrame]]
) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
    """(P(class 1) of X, {name: P(class 1) of that variant of X}) with X derived and encoded
    once; each variant (X with some columns changed, same rows; made one at a time when
    `variants` is a generator) re-encodes only the blocks of the derived columns it changes.
    None, before any variant is made, when the model is not a calibrated derive -> encode ->
    estimator pipeline with an unweighted encoder."""
    parts = pipeline_parts(model)
    if parts is None or getattr(parts[1], "transformer_weights", None):
        return None
    prep, encode, calibrated = parts
    derive = prep[:-1]
    derived = derive.transform(X)
    encoded = np.asarray(encode.transform(derived), dtype=float)
    base = calibrated_proba(calibrated, encoded)
    out = {}
    for name, variant in variants:
        changed = _reencode(encode, derived, encoded, derive.transform(variant))
        out[name] = base if changed is encoded else calibrated_proba(calibrated, changed)
    return base, out


def cell_columns(encode: Any, columns: Sequence[str]) -> np.ndarray | None:
    """Indices of the encoded columns that `columns` (categoricals) produce, or None."""
    blocks = categorical_blocks(encode)
    if blocks is None or not set(columns) <= set(blocks):
        return None
    return np.concatenate([indices for name, indices in blocks.items() if name in columns])
