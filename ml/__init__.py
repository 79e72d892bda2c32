"""carepulse ML step: churn and engagement models trained on the warehouse, written back to it.

The package reads point-in-time feature models that dbt built (models/intermediate/ml),
fits and compares scikit-learn models with a time-based split, calibrates them, and
writes runs, importances and predictions to the DuckDB schema `ml`, which dbt declares as
sources for the post-ML marts. Entry points: `python -m ml train|score`, `ml.train.train`,
`ml.score.score`. Comparisons with the generator's ground truth live in
`carepulse.oracle` (the benchmark), never here: `ml` runs on real data.
"""
