"""What the report reads for the studies' extra models and for model monitoring.

Why apart from data.py: these marts are built by the post-ML dbt step only (tag post_ml),
so each one is optional - a warehouse scored by an older build may lack them - and the
figures say what is missing instead of failing. Only contracted marts and ml tables are
read (the report's exposure lists them), on the caller's read-only connection.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

SEGMENTS = "marts.behavioural_segments"
WORKLIST = "marts.outreach_priority"
PERFORMANCE = "marts.outreach_performance"
VALUE = "marts.patient_value"
OUTCOMES = "marts.model_prediction_outcomes"
CALIBRATION = "marts.model_calibration_by_decile"
DRIFT = "marts.model_feature_drift"
PREDICTIONS = "ml.churn_predictions"
#: Every relation this module reads (the report's exposure lists them; tests/test_ml_marts.py).
RELATIONS = (SEGMENTS, WORKLIST, PERFORMANCE, VALUE, OUTCOMES, CALIBRATION, DRIFT, PREDICTIONS)
#: Features per model shown in the drift figure and table (highest PSI first).
TOP_DRIFT_FEATURES = 10


@dataclass
class StudyData:
    """Small frames for the segments, best-time, value and monitoring figures; None when
    the mart is not in the warehouse."""

    segments: pd.DataFrame | None  # behavioural_segments, one row per segment
    best_time: pd.DataFrame | None  # best_iso_weekday x best_hour_start: patients, mean probability
    answer_rates: pd.DataFrame | None  # outreach_performance: iso_weekday x hour_of_day, attempts, engaged
    value: pd.DataFrame | None  # patient_value: expected_value, expected_churn_loss, churn decile
    outcomes: pd.DataFrame | None  # model_prediction_outcomes, every checked batch
    calibration: pd.DataFrame | None  # model_calibration_by_decile of each model's latest checked batch
    drift: pd.DataFrame | None  # model_feature_drift of each model's latest scored batch, top features
    pending: pd.DataFrame | None  # churn batches scored but not checked yet: as_of_date, checkable_on


def _df(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).fetchdf()


def read_studies(con: duckdb.DuckDBPyConnection, present: set[str], churn_days: int | None) -> StudyData:
    """Every frame whose mart is present (None otherwise)."""

    def when(relation: str, sql: str) -> pd.DataFrame | None:
        return _df(con, sql) if relation in present else None

    pending = None
    if OUTCOMES in present and churn_days:
        pending = _df(
            con,
            f"""
            select distinct predictions.as_of_date,
                cast(predictions.as_of_date + interval '{int(churn_days)} days' as date) as checkable_on
            from {PREDICTIONS} as predictions
            where not exists (
                select 1 from {OUTCOMES} as outcomes
                where outcomes.model_name = 'churn'
                    and outcomes.run_id = predictions.run_id
                    and outcomes.as_of_date = predictions.as_of_date
            )
            order by 1
            """,
        )
    return StudyData(
        segments=when(
            SEGMENTS,
            f"""
            select segment, segment_name, patients, patient_share, churned_patients, churn_rate,
                cast(revenue_360d as double) as revenue_360d,
                cast(revenue_360d_per_patient as double) as revenue_360d_per_patient
            from {SEGMENTS}
            order by segment
            """,
        ),
        best_time=when(
            WORKLIST,
            f"""
            select best_iso_weekday, best_hour_start, best_hour_end, count(*) as patients,
                avg(best_window_probability) as mean_probability
            from {WORKLIST}
            where best_iso_weekday is not null and best_hour_start is not null
            group by best_iso_weekday, best_hour_start, best_hour_end
            order by best_iso_weekday, best_hour_start
            """,
        ),
        answer_rates=when(
            PERFORMANCE,
            f"""
            select iso_weekday, hour_of_day, cast(sum(attempts) as bigint) as attempts,
                cast(sum(engaged) as bigint) as engaged
            from {PERFORMANCE}
            group by iso_weekday, hour_of_day
            order by iso_weekday, hour_of_day
            """,
        ),
        value=when(
            VALUE,
            f"""
            select value.patient_id, cast(value.expected_value as double) as expected_value,
                cast(value.expected_churn_loss as double) as expected_churn_loss,
                value.churn_probability,
                ntile(10) over (order by value.churn_probability, value.patient_id) as churn_decile
            from {VALUE} as value
            """,
        ),
        outcomes=when(
            OUTCOMES,
            f"""
            select run_id, model_name, as_of_date, evaluated_as_of_date, outcome_window_days, examples,
                positives, realised_rate, mean_probability, brier, realised_roc_auc, heldout_roc_auc,
                top_decile_precision, top_decile_lift
            from {OUTCOMES}
            order by model_name, as_of_date, run_id
            """,
        ),
        calibration=when(
            CALIBRATION,
            f"""
            select calibration.* from {CALIBRATION} as calibration
            qualify dense_rank() over (
                partition by calibration.model_name order by calibration.as_of_date desc, calibration.run_id desc
            ) = 1
            order by calibration.model_name, calibration.probability_decile
            """,
        ),
        drift=when(
            DRIFT,
            f"""
            with latest as (
                select * from {DRIFT}
                qualify dense_rank() over (partition by model_name order by as_of_date desc, run_id desc) = 1
            )
            select run_id, model_name, as_of_date, feature, feature_kind, psi, max_share_shift, drift_level
            from latest
            qualify row_number() over (partition by model_name order by psi desc, feature) <= {TOP_DRIFT_FEATURES}
            order by model_name, psi desc, feature
            """,
        ),
        pending=pending,
    )
