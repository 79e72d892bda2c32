"""Writing runs and predictions to the warehouse schema `ml`, one transaction per write.

Why Python owns these tables and dbt only declares them as sources: they are appended to
(history is kept under run ids), not rebuilt, and they must exist before the post-ML dbt
models run. Every write is a single DuckDB transaction: create-if-missing, insert all
tables, commit; any error rolls everything back, so a failed run leaves no partial rows
and the previous run stays current. Table constraints (not null, ranges, keys) make the
database itself refuse malformed rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .io import connect
from .warehouse import SPARK, Connection, target

SCHEMA = "ml"

_PREDICTION_COLUMNS: list[tuple[str, str]] = [
    ("run_id", "varchar not null"),
    ("model_name", "varchar not null"),
    ("estimator", "varchar not null"),
    ("patient_id", "varchar not null"),
    ("as_of_date", "date not null"),
    ("probability", "double not null check (probability >= 0 and probability <= 1)"),
    ("risk_decile", "integer not null check (risk_decile between 1 and 10)"),
    ("risk_band", "varchar not null check (risk_band in ('high', 'medium', 'low'))"),
    ("top_factor_1", "varchar"),
    ("top_factor_2", "varchar"),
    ("top_factor_3", "varchar"),
    ("top_factors", "varchar not null"),
    ("scored_at", "timestamp not null"),
]

#: Column definitions per table, in order. Keys are declared separately.
TABLES: dict[str, list[tuple[str, str]]] = {
    "model_runs": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("estimator", "varchar not null"),
        ("calibration", "varchar not null"),
        ("trained_at", "timestamp not null"),
        ("as_of_date", "date not null"),
        ("train_rows", "bigint not null"),
        ("test_rows", "bigint not null"),
        ("train_periods", "integer not null"),
        ("test_periods", "integer not null"),
        ("train_start", "date not null"),
        ("train_end", "date not null"),
        ("test_start", "date not null"),
        ("test_end", "date not null"),
        ("period_unit", "varchar not null"),
        ("final_rows", "bigint not null"),
        ("base_rate", "double"),
        ("roc_auc", "double"),
        ("pr_auc", "double"),
        ("brier", "double"),
        ("log_loss", "double"),
        ("accuracy", "double"),
        ("precision", "double"),
        ("recall", "double"),
        ("f1", "double"),
        ("threshold", "double"),
        ("lift_top_decile", "double"),
        ("calibration_error", "double"),
        ("selection_metric", "varchar not null"),
        ("params", "varchar not null"),
        ("features", "varchar not null"),
        ("data_fingerprint", "varchar not null"),
        ("model_path", "varchar not null"),
        ("fit_seconds", "double"),
        # nullable: runs recorded before hashes were kept have none (and cannot be loaded)
        ("model_sha256", "varchar check (length(model_sha256) = 64)"),
    ],
    "model_candidates": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("estimator", "varchar not null"),
        ("calibration", "varchar not null"),
        ("is_selected", "boolean not null"),
        ("fit_seconds", "double"),
        ("base_rate", "double"),
        ("roc_auc", "double"),
        ("pr_auc", "double"),
        ("brier", "double"),
        ("log_loss", "double"),
        ("accuracy", "double"),
        ("precision", "double"),
        ("recall", "double"),
        ("f1", "double"),
        ("lift_top_decile", "double"),
        ("calibration_error", "double"),
        # clustering candidates (behavioural segments): mean silhouette on the sample
        ("silhouette", "double check (silhouette between -1 and 1)"),
    ],
    "feature_importance": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("feature", "varchar not null"),
        ("importance", "double not null"),
        ("rank", "integer not null check (rank >= 1)"),
        ("method", "varchar not null"),
    ],
    "holdout_predictions": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("example_id", "varchar not null"),
        ("patient_id", "varchar not null"),
        ("example_date", "date not null"),
        ("label", "boolean not null"),
        ("probability", "double not null check (probability >= 0 and probability <= 1)"),
    ],
    "churn_predictions": list(_PREDICTION_COLUMNS),
    "engagement_predictions": [
        *_PREDICTION_COLUMNS,
        ("best_channel", "varchar not null"),
        ("probability_phone", "double check (probability_phone >= 0 and probability_phone <= 1)"),
        ("probability_sms", "double check (probability_sms >= 0 and probability_sms <= 1)"),
        ("probability_email", "double check (probability_email >= 0 and probability_email <= 1)"),
        # best time to reach on best_channel (ml/engagement.py best_time_to_reach)
        ("best_weekday", "integer check (best_weekday between 0 and 6)"),
        ("best_hour_start", "integer check (best_hour_start between 0 and 23)"),
        ("best_hour_end", "integer check (best_hour_end between 1 and 24)"),
        ("best_window_probability", "double check (best_window_probability >= 0 and best_window_probability <= 1)"),
    ],
    "patient_segments": [
        ("run_id", "varchar not null"),
        ("as_of_date", "date not null"),
        ("cutoff_date", "date not null"),
        ("patient_id", "varchar not null"),
        ("segment", "integer not null check (segment >= 1)"),
    ],
    "segment_profiles": [
        ("run_id", "varchar not null"),
        ("as_of_date", "date not null"),
        ("cutoff_date", "date not null"),
        ("segment", "integer not null check (segment >= 1)"),
        ("feature", "varchar not null"),
        ("centroid", "double not null"),
        ("member_mean", "double"),
        ("population_median", "double not null"),
        ("centroid_percentile", "double not null check (centroid_percentile between 0 and 1)"),
        ("patients", "bigint not null"),
        ("patient_share", "double not null"),
        ("churned_patients", "bigint not null"),
        ("churn_rate", "double"),
        ("revenue_360d", "double not null"),
        ("revenue_360d_per_patient", "double"),
    ],
    # drift monitoring (ml/drift.py): the training frame's bins per feature, and each scored
    # batch's shares in the same bins; the mart model_feature_drift computes the PSI
    "feature_baselines": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("feature", "varchar not null"),
        ("feature_kind", "varchar not null check (feature_kind in ('categorical', 'numeric'))"),
        ("bin_index", "integer not null check (bin_index >= 0)"),
        ("bin_label", "varchar not null"),
        ("lower_edge", "double"),
        ("upper_edge", "double"),
        ("training_rows", "bigint not null check (training_rows >= 0)"),
        ("training_share", "double not null check (training_share between 0 and 1)"),
    ],
    "feature_distributions": [
        ("run_id", "varchar not null"),
        ("model_name", "varchar not null"),
        ("as_of_date", "date not null"),
        ("feature", "varchar not null"),
        ("bin_index", "integer not null check (bin_index >= 0)"),
        ("scoring_rows", "bigint not null check (scoring_rows >= 0)"),
        ("scoring_share", "double not null check (scoring_share between 0 and 1)"),
        ("scored_at", "timestamp not null"),
    ],
    # care-pathway dropout (ml/dropout.py): patients inside the pathway at the as-of date
    "journey_dropout_predictions": [
        *_PREDICTION_COLUMNS,
        ("current_stage", "varchar not null"),
        ("days_in_current_stage", "integer"),
    ],
    # future Champions (ml/champions.py): providers outside the top segment at the latest month end
    "provider_champion_predictions": [
        *(
            ("provider_id", "varchar not null") if name == "patient_id" else (name, kind)
            for name, kind in _PREDICTION_COLUMNS
        ),
        ("month_end_date", "date not null"),
        ("segment", "varchar not null"),
    ],
}

KEYS: dict[str, tuple[str, ...]] = {
    "model_runs": ("run_id", "model_name"),
    "model_candidates": ("run_id", "model_name", "estimator"),
    "feature_importance": ("run_id", "model_name", "method", "feature"),
    "holdout_predictions": ("run_id", "model_name", "example_id"),
    "churn_predictions": ("run_id", "as_of_date", "patient_id"),
    "engagement_predictions": ("run_id", "as_of_date", "patient_id"),
    "patient_segments": ("run_id", "patient_id"),
    "segment_profiles": ("run_id", "segment", "feature"),
    "feature_baselines": ("run_id", "model_name", "feature", "bin_index"),
    "feature_distributions": ("run_id", "model_name", "as_of_date", "feature", "bin_index"),
    "journey_dropout_predictions": ("run_id", "as_of_date", "patient_id"),
    "provider_champion_predictions": ("run_id", "as_of_date", "provider_id"),
}


def _latest_batch(table: str) -> str:
    """A view body: the rows of the most recently scored batch (one run at one as-of date)."""
    return f"""
        select predictions.* from {SCHEMA}.{table} as predictions
        inner join (
            select run_id, as_of_date, scored_at from {SCHEMA}.{table}
            order by scored_at desc, run_id desc limit 1
        ) as latest
            on predictions.run_id = latest.run_id
            and predictions.as_of_date = latest.as_of_date
            and predictions.scored_at = latest.scored_at
    """


#: The *_current views: what "the latest run" means for each table.
VIEWS: dict[str, str] = {
    "model_runs_current": f"""
        select * from {SCHEMA}.model_runs as runs
        where not exists (
            select 1 from {SCHEMA}.model_runs as later
            where later.model_name = runs.model_name
                and (later.trained_at > runs.trained_at
                    or (later.trained_at = runs.trained_at and later.run_id > runs.run_id))
        )
    """,
    "model_candidates_current": f"""
        select candidates.* from {SCHEMA}.model_candidates as candidates
        inner join {SCHEMA}.model_runs_current as runs
            on candidates.run_id = runs.run_id and candidates.model_name = runs.model_name
    """,
    "feature_importance_current": f"""
        select importance.* from {SCHEMA}.feature_importance as importance
        inner join {SCHEMA}.model_runs_current as runs
            on importance.run_id = runs.run_id and importance.model_name = runs.model_name
    """,
    "holdout_predictions_current": f"""
        select holdout.* from {SCHEMA}.holdout_predictions as holdout
        inner join {SCHEMA}.model_runs_current as runs
            on holdout.run_id = runs.run_id and holdout.model_name = runs.model_name
    """,
    # segments: those of the latest run that fitted them
    "patient_segments_current": f"""
        select segments.* from {SCHEMA}.patient_segments as segments
        inner join {SCHEMA}.model_runs_current as runs
            on segments.run_id = runs.run_id and runs.model_name = 'segments'
    """,
    "segment_profiles_current": f"""
        select profiles.* from {SCHEMA}.segment_profiles as profiles
        inner join {SCHEMA}.model_runs_current as runs
            on profiles.run_id = runs.run_id and runs.model_name = 'segments'
    """,
    # predictions: the most recently scored batch (one run at one as-of date)
    "churn_predictions_current": _latest_batch("churn_predictions"),
    "engagement_predictions_current": _latest_batch("engagement_predictions"),
    "journey_dropout_predictions_current": _latest_batch("journey_dropout_predictions"),
    "provider_champion_predictions_current": _latest_batch("provider_champion_predictions"),
}


def apply_ddl(con: Connection) -> None:
    """Idempotently create the ml schema, its tables and views (through the connection, so
    DuckDB gets keys and checks and Spark parquet tables get the same columns)."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for table, columns in TABLES.items():
        con.create_table(f"{SCHEMA}.{table}", columns, KEYS[table])
    if target() != SPARK:
        # warehouses created before these columns existed get them too (DuckDB files are
        # kept between builds; a Spark build creates its ml tables from TABLES)
        con.execute(f"alter table {SCHEMA}.model_runs add column if not exists model_sha256 varchar")
        con.execute(f"alter table {SCHEMA}.model_candidates add column if not exists silhouette double")
        for column, kind in (("best_weekday", "integer"), ("best_hour_start", "integer"), ("best_hour_end", "integer")):
            con.execute(f"alter table {SCHEMA}.engagement_predictions add column if not exists {column} {kind}")
        con.execute(
            f"alter table {SCHEMA}.engagement_predictions add column if not exists best_window_probability double"
        )
    for view, sql in VIEWS.items():
        con.execute(f"create or replace view {SCHEMA}.{view} as {sql.strip()}")


def _insert(con: Connection, table: str, frame: pd.DataFrame) -> int:
    """Insert the table's columns from frame (missing optional columns become null)."""
    columns = [name for name, _ in TABLES[table]]
    data = frame.copy()
    for name in columns:
        if name not in data.columns:
            data[name] = None
    data = data[columns]
    con.insert(f"{SCHEMA}.{table}", data)
    return len(data)


def ensure_schema(db_path: Path) -> None:
    """Create the ml schema, tables and views if missing (the post-ML dbt step needs them)."""
    with connect(db_path, read_only=False) as con:
        con.begin()
        try:
            apply_ddl(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise


def write_tables(
    db_path: Path,
    frames: Mapping[str, pd.DataFrame],
    replace_where: Mapping[str, tuple[str, list]] | None = None,
) -> dict[str, int]:
    """Insert several tables in one transaction; all or nothing.

    replace_where: per table, a SQL predicate and parameters whose rows are deleted first
    (re-scoring the same run at the same as-of date replaces its predictions).
    Returns the rows inserted per table.
    """
    unknown = set(frames) - set(TABLES)
    if unknown:
        raise ValueError(f"not ml tables: {sorted(unknown)}")
    written: dict[str, int] = {}
    with connect(db_path, read_only=False) as con:
        con.begin()
        try:
            apply_ddl(con)
            for table, (predicate, parameters) in (replace_where or {}).items():
                con.delete_where(f"{SCHEMA}.{table}", predicate, parameters)
            for table, frame in frames.items():
                written[table] = _insert(con, table, frame)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return written


def _query_model_runs(db_path: Path, column: str, sql: str, parameters: list) -> list[tuple]:
    """Rows of `sql` over ml.model_runs; none when the warehouse, the table or `column` is
    missing (a fresh warehouse, or one written before that column existed)."""
    if target() != SPARK and not Path(db_path).exists():
        return []
    with connect(db_path) as con:
        relation = f"{SCHEMA}.model_runs"
        present = relation in con.relations() and column in con.columns(relation)
        return con.execute(sql, parameters).fetchall() if present else []


def latest_run_id(db_path: Path) -> str | None:
    """The run id of the most recently trained run recorded in the warehouse, if any."""
    rows = _query_model_runs(
        db_path, "run_id", f"select run_id from {SCHEMA}.model_runs order by trained_at desc, run_id desc limit 1", []
    )
    return str(rows[0][0]) if rows else None


def recorded_model_sha256(db_path: Path, run_id: str) -> str | None:
    """The model file's SHA-256 recorded with run_id in ml.model_runs (None: no record)."""
    rows = _query_model_runs(
        db_path,
        "model_sha256",
        f"select distinct model_sha256 from {SCHEMA}.model_runs where run_id = ? and model_sha256 is not null",
        [run_id],
    )
    return rows[0][0] if len(rows) == 1 else None
