"""Everything the report reads from the warehouse, in one read-only pass.

Why one module and one connection: the report must never hold the DuckDB file while a
build runs (DuckDB allows one writer), so it opens the published file read-only, runs
every query, closes the connection and works on small in-memory frames from then on.
Aggregation happens in SQL, so scale 10 (50M events) only moves a few hundred rows, plus
the held-out predictions of the two models (capped by the ML step's max_test_rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from carepulse.dbt_runner import StepFailed
from ml.warehouse import SPARK, Connection, open_connection, target

from .data_studies import StudyData, read_studies

#: The dbt relations the report needs; without them there is nothing to report. Only
#: contracted marts (and the ml tables below): models/exposures.yml lists the same.
REQUIRED = (
    "marts.as_of_date",
    "marts.dim_patients",
    "marts.fct_engagement_events",
    "marts.fct_claims",
    "marts.dim_providers",
    "marts.patient_churn",
    "marts.churn_drivers",
    "marts.patient_activity_monthly",
    "marts.patient_rfm",
    "marts.cohort_retention",
    "marts.care_journey_funnel",
    "marts.segment_roi",
    "marts.portfolio_roi",
    "marts.outreach_performance",
    "marts.quarantine_summary",
    "marts.executive_kpis",
    "marts.funnel_what_if",
    "marts.visit_plan_what_if",
    "marts.provider_revenue_concentration",
)

#: Written by `python -m ml train|score`; absent after `carepulse build --no-ml`.
ML_RELATIONS = (
    "ml.model_runs_current",
    "ml.holdout_predictions_current",
    "ml.feature_importance_current",
)

#: Built by the post-ML dbt step (selector post_ml).
IMPACT = "marts.intervention_impact"
SCENARIOS = "marts.intervention_scenarios"
#: The label windows (the monitoring section says when a batch can be checked).
CUTOFFS = "marts.feature_cutoffs"

#: Attributes shown in the churn drivers figure, in order.
CHURN_DRIVER_DIMENSIONS = ("primary_condition", "location_type", "referral_source")


@dataclass
class Recommendations:
    """The decision marts behind the report's Recommendations section."""

    funnel: pd.DataFrame  # marts.funnel_what_if, scenario x stage
    visit_plans: pd.DataFrame  # marts.visit_plan_what_if, scenario x (segment | portfolio)
    concentration: pd.DataFrame  # marts.provider_revenue_concentration, p = 1..100


class WarehouseNotReady(StepFailed):
    """The warehouse file or the marts the report reads are missing."""


@dataclass
class MLData:
    """The current model runs and what they were evaluated on."""

    runs: pd.DataFrame  # ml.model_runs_current, one row per model
    holdout: pd.DataFrame  # model_name, example_id, label (bool), probability
    importance: pd.DataFrame  # model_name, method, feature, importance, rank
    impact: dict | None  # marts.intervention_impact's single row, when built
    scenarios: pd.DataFrame | None = None  # marts.intervention_scenarios, when built
    studies: StudyData | None = None  # segments, best time, value and monitoring marts (data_studies)


@dataclass
class ReportData:
    """Small frames and scalars, everything needed to draw the figures and write the page."""

    db_path: Path
    as_of_date: date
    as_of_source: str
    scale: dict[str, int]
    quarantined_rows: int
    churn_overall: dict
    churn_drivers: pd.DataFrame
    churn_status: pd.DataFrame
    monthly_activity: pd.DataFrame
    monthly_claims: pd.DataFrame
    rfm_segments: pd.DataFrame
    cohorts: pd.DataFrame
    funnel: pd.DataFrame
    segments: pd.DataFrame
    portfolio: dict
    outreach: dict
    engagement_revenue_usd: float
    executive_kpis: pd.DataFrame  # marts.executive_kpis, month rows
    kpis_as_of: dict  # marts.executive_kpis, the as-of row
    recommendations: Recommendations
    ml: MLData | None = None
    ml_missing: str | None = None
    notes: list[str] = field(default_factory=list)


def _relations(con: Connection) -> set[str]:
    return con.relations()


def _df(con: Connection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).fetchdf()


def _row(con: Connection, sql: str, params: list | None = None) -> dict:
    frame = _df(con, sql, params)
    if frame.empty:
        return {}
    return {key: (None if pd.isna(value) else value) for key, value in frame.iloc[0].to_dict().items()}


def _read_ml(con: Connection, present: set[str]) -> tuple[MLData | None, str | None]:
    missing = [name for name in ML_RELATIONS if name not in present]
    if missing:
        if not any(name.startswith("ml.") for name in present):
            return None, (
                "The ML step did not run for this warehouse (there is no `ml` schema; "
                "`carepulse build --no-ml`, or `python -m ml train` and `score` not run yet)."
            )
        return None, f"The ML tables are incomplete (missing {', '.join(missing)}); model figures are left out."
    runs = _df(
        con,
        """
        select run_id, model_name, estimator, calibration, trained_at, as_of_date,
            train_rows, test_rows, test_start, test_end, period_unit, base_rate, roc_auc,
            pr_auc, brier, calibration_error, lift_top_decile
        from ml.model_runs_current
        order by model_name
        """,
    )
    if runs.empty:
        return None, "The ML tables exist but hold no model run yet (`python -m ml train` has not finished)."
    holdout = _df(
        con,
        """
        select model_name, example_id, label, probability
        from ml.holdout_predictions_current
        order by model_name, example_id
        """,
    )
    importance = _df(
        con,
        """
        select model_name, method, feature, importance, rank
        from ml.feature_importance_current
        order by model_name, method, rank
        """,
    )
    impact = _row(con, f"select * from {IMPACT}") if IMPACT in present else None
    scenarios = None
    if SCENARIOS in present:
        scenarios = _df(
            con,
            f"""
            select scenario, scenario_description, is_illustrative, target_risk_bands, capacity, save_rate,
                requires_engagement, contact_cost, horizon_days, population_patients, patients_targeted,
                expected_churners, churners_avoided, churn_rate_without_plan, churn_rate_with_plan,
                relative_churn_reduction, revenue_retained, plan_cost, net_value, roi
            from {SCENARIOS}
            order by is_illustrative, net_value desc, scenario
            """,
        )
    horizon = _row(con, f"select max(label_window_days) as days from {CUTOFFS}") if (CUTOFFS in present) else {}
    studies = read_studies(con, present, horizon.get("days"))
    return (
        MLData(
            runs=runs,
            holdout=holdout,
            importance=importance,
            impact=impact or None,
            scenarios=scenarios,
            studies=studies,
        ),
        None,
    )


def _read_recommendations(con: Connection) -> Recommendations:
    funnel = _df(
        con,
        """
        select scenario, scenario_description, stage, stage_order, conversion_uplift, pathway_patients,
            observed_patients_entered, projected_patients_entered, projected_patients_completed,
            observed_follow_up_completion_rate, projected_follow_up_completion_rate
        from marts.funnel_what_if
        order by scenario <> 'baseline', scenario, stage_order
        """,
    )
    visit_plans = _df(
        con,
        """
        select scenario, scenario_description, grain, segment, segment_priority, providers, visits_per_quarter,
            cost_per_visit, visits, investment, investment_change, total_revenue, quarterly_revenue, roi,
            quarterly_roi
        from marts.visit_plan_what_if
        order by scenario <> 'current_plan', scenario, grain = 'portfolio', segment_priority, segment
        """,
    )
    concentration = _df(
        con,
        """
        select provider_percentile, providers, top_providers, cast(top_revenue as double) as top_revenue,
            cast(total_revenue as double) as total_revenue, cumulative_revenue_share
        from marts.provider_revenue_concentration
        order by provider_percentile
        """,
    )
    return Recommendations(funnel=funnel, visit_plans=visit_plans, concentration=concentration)


def _as_of_kpis(kpis: pd.DataFrame) -> dict:
    rows = kpis[kpis["period_type"] == "as_of"]
    if rows.empty:
        return {}
    return {key: (None if pd.isna(value) else value) for key, value in rows.iloc[0].to_dict().items()}


def load(db_path: Path) -> ReportData:
    """Run every report query on a read-only connection that is closed before returning."""
    db_path = Path(db_path)
    if target() != SPARK and not db_path.exists():
        raise WarehouseNotReady(f"no warehouse at {db_path}: run `carepulse build` first")
    con = open_connection(db_path, read_only=True)
    try:
        present = _relations(con)
        missing = [name for name in REQUIRED if name not in present]
        if missing:
            raise WarehouseNotReady(
                f"{db_path} lacks {', '.join(missing)}: run `carepulse build` (or `dbt build`) first"
            )
        as_of = _row(con, "select as_of_date, as_of_source from marts.as_of_date")
        if not as_of or as_of["as_of_date"] is None:
            raise WarehouseNotReady(f"{db_path} has no as-of date (no activity data?)")
        as_of_date = pd.Timestamp(as_of["as_of_date"]).date()

        scale = _row(
            con,
            """
            select
                (select count(*) from marts.dim_patients) as patients,
                (select count(*) from marts.fct_engagement_events) as engagement_events,
                (select count(*) from marts.fct_claims) as claims,
                (select count(*) from marts.dim_providers) as providers,
                (select cast(coalesce(sum(attempts), 0) as bigint) from marts.outreach_performance)
                    as outreach_calls,
                (select cast(coalesce(max(pathway_patients), 0) as bigint) from marts.care_journey_funnel)
                    as pathway_patients
            """,
        )
        quarantined = _row(
            con, "select cast(coalesce(sum(rows_quarantined), 0) as bigint) as n from marts.quarantine_summary"
        )["n"]

        churn_drivers = _df(
            con,
            """
            select dimension, dimension_value, patients, churned_patients, churn_rate,
                churn_rate_ci_low, churn_rate_ci_high, overall_churn_rate, diff_vs_overall,
                relative_risk
            from marts.churn_drivers
            order by dimension, churn_rate desc, dimension_value
            """,
        )
        overall = churn_drivers[churn_drivers["dimension"] == "overall"]
        churn_overall = overall.iloc[0].to_dict() if len(overall) else {}

        churn_status = _df(
            con,
            """
            select churn_status, count(*) as patients
            from marts.patient_churn group by churn_status order by patients desc, churn_status
            """,
        )
        monthly_activity = _df(
            con,
            """
            select activity_month,
                count(*) filter (where is_active) as active_patients,
                cast(sum(events) as bigint) as events,
                cast(sum(revenue_usd) as double) as revenue_usd,
                bool_or(is_as_of_month) as is_as_of_month
            from marts.patient_activity_monthly
            group by activity_month
            order by activity_month
            """,
        )
        monthly_claims = _df(
            con,
            """
            select date_trunc('month', claim_date) as claim_month,
                count(*) as claims,
                cast(sum(paid_amount) as double) as paid_usd
            from marts.fct_claims
            where claim_date <= ?
            group by 1
            order by 1
            """,
            [as_of_date],
        )
        rfm_segments = _df(
            con,
            """
            select rfm_segment, count(*) as patients, cast(sum(monetary) as double) as revenue_usd
            from marts.patient_rfm
            group by rfm_segment
            order by patients desc, rfm_segment
            """,
        )
        cohorts = _df(
            con,
            """
            select enrolment_month, months_since_enrolment, cohort_size, active_patients,
                retention_rate, is_complete_month
            from marts.cohort_retention
            order by enrolment_month, months_since_enrolment
            """,
        )
        funnel = _df(
            con,
            """
            select stage, stage_order, pathway_patients, patients_entered, patients_completed,
                patients_dropped_out, patients_in_progress, stage_conversion_rate,
                cumulative_conversion_rate, dropout_rate, median_days_in_stage
            from marts.care_journey_funnel
            order by stage_order
            """,
        )
        segments = _df(
            con,
            """
            select segment, segment_priority, providers, provider_share, claim_count,
                cast(total_revenue as double) as total_revenue, revenue_share,
                cast(investment as double) as investment, cast(profit as double) as profit, roi,
                recommended_action
            from marts.segment_roi
            order by revenue_share desc nulls last, segment_priority
            """,
        )
        portfolio = _row(
            con,
            """
            select providers, claim_count, cast(total_revenue as double) as total_revenue,
                cast(investment as double) as investment, roi
            from marts.portfolio_roi
            """,
        )
        outreach = _row(
            con,
            """
            select cast(coalesce(sum(attempts), 0) as bigint) as attempts,
                cast(coalesce(sum(reached), 0) as bigint) as reached,
                cast(coalesce(sum(engaged), 0) as bigint) as engaged
            from marts.outreach_performance
            """,
        )
        engagement_revenue = _row(
            con, "select cast(coalesce(sum(revenue_usd), 0) as double) as usd from marts.fct_engagement_events"
        )["usd"]
        kpis = _df(
            con,
            """
            select period_type, period_start, period_end, is_partial_period, patients, active_patients,
                churned_patients, churn_rate, cast(revenue_usd as double) as revenue_usd, avg_engagement_score,
                outreach_calls, outreach_engaged, outreach_engagement_rate
            from marts.executive_kpis
            order by period_start
            """,
        )
        recommendations = _read_recommendations(con)
        ml, ml_missing = _read_ml(con, present)
    finally:
        con.close()

    return ReportData(
        db_path=db_path,
        as_of_date=as_of_date,
        as_of_source=str(as_of.get("as_of_source") or ""),
        scale={key: int(value or 0) for key, value in scale.items()},
        quarantined_rows=int(quarantined or 0),
        churn_overall=churn_overall,
        churn_drivers=churn_drivers,
        churn_status=churn_status,
        monthly_activity=monthly_activity,
        monthly_claims=monthly_claims,
        rfm_segments=rfm_segments,
        cohorts=cohorts,
        funnel=funnel,
        segments=segments,
        portfolio=portfolio,
        outreach=outreach,
        engagement_revenue_usd=float(engagement_revenue or 0.0),
        executive_kpis=kpis[kpis["period_type"] == "month"].reset_index(drop=True),
        kpis_as_of=_as_of_kpis(kpis),
        recommendations=recommendations,
        ml=ml,
        ml_missing=ml_missing,
    )
