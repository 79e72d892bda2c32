"""The explorer's queries: SQL over the marts, parameters bound, filtering and sorting in SQL.

Why SQL and not pandas: the pages must answer on the full warehouse (100k-patient
worklists at scale 1) and mean exactly what the marts mean, so every filter is a WHERE
clause with bound values and every sort a whitelisted column. Each function takes an open
connection (carepulse.app.connection.snapshot), so one page reads one published build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from carepulse.app.connection import read_frame

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

#: The what-if marts the Scenarios page shows (helper-built in models/marts/decisions).
DECISION_MARTS: tuple[str, ...] = (
    "marts.intervention_scenarios",
    "marts.funnel_what_if",
    "marts.visit_plan_what_if",
)

#: Worklist columns shown, exported and sortable (outreach_priority; no direct identifiers exist there).
WORKLIST_COLUMNS: tuple[str, ...] = (
    "priority_rank",
    "patient_id",
    "churn_probability",
    "churn_risk_band",
    "churn_top_factor",
    "engage_probability",
    "recommended_channel",
    "rfm_segment",
    "patient_value",
    "expected_value",
    "is_worth_contacting",
    "intervention",
    "intervention_description",
)


@dataclass(frozen=True)
class WorklistFilter:
    """What the care team narrows the worklist to; empty tuples mean "any"."""

    risk_bands: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    min_churn_probability: float = 0.0
    only_worth_contacting: bool = False
    sort_by: str = "priority_rank"
    descending: bool = False
    limit: int | None = None


def _in_list(column: str, name: str, values: Sequence[str], params: dict[str, object]) -> str:
    """`column in (:name0, :name1, ...)` with the values bound, or TRUE when no value is chosen."""
    if not values:
        return "true"
    for index, value in enumerate(values):
        params[f"{name}{index}"] = value
    return f"{column} in ({', '.join(f':{name}{index}' for index in range(len(values)))})"


def distinct_values(connection: Connection, relation: str, column: str) -> list[str]:
    """The distinct non-null values of a column of a known relation (for filter choices)."""
    frame = read_frame(
        connection, f"select distinct {column} as value from {relation} where {column} is not null order by 1"
    )
    return [str(value) for value in frame["value"]]


def as_of(connection: Connection) -> pd.DataFrame:
    """The as-of date and where it came from (marts.as_of_date, one row)."""
    return read_frame(connection, "select as_of_date, as_of_source from marts.as_of_date")


def monthly_activity(connection: Connection) -> pd.DataFrame:
    """Active patients, events and engagement revenue per calendar month."""
    return read_frame(
        connection,
        """
        select activity_month,
            count(*) filter (where is_active) as active_patients,
            cast(sum(events) as bigint) as events,
            cast(sum(revenue_usd) as double) as revenue_usd
        from marts.patient_activity_monthly
        group by activity_month
        order by activity_month
        """,
    )


def executive_kpis(connection: Connection) -> pd.DataFrame:
    """marts.executive_kpis: the as-of row first (period_type 'as_of'), then the months in order."""
    return read_frame(
        connection,
        """
        select period_type, period_start, period_end, is_partial_period, patients, active_patients,
            churned_patients, churn_rate, revenue_usd, avg_engagement_score, outreach_engagement_rate
        from marts.executive_kpis
        order by period_type = 'as_of' desc, period_start
        """,
    )


def scenario_table(connection: Connection, relation: str, scenario: str | None = None) -> pd.DataFrame:
    """All rows of a decision mart (marts.intervention_scenarios, funnel_what_if, visit_plan_what_if),
    or those of one scenario; the relation is one of DECISION_MARTS, never user text."""
    if relation not in DECISION_MARTS:
        raise ValueError(f"not a decision mart: {relation!r}")
    params: dict[str, object] = {}
    where = "true"
    if scenario is not None:
        params["scenario"] = scenario
        where = "scenario = :scenario"
    return read_frame(connection, f"select * from {relation} where {where} order by all", params)


#: The DuckDB table macro the intervention_scenarios mart's post-hook creates: the mart's SQL
#: (macro intervention_scenarios_sql) over one scenario made of its parameters.
RETENTION_WHAT_IF = "marts.intervention_scenario_what_if"


@dataclass(frozen=True)
class RetentionPlan:
    """One retention plan's assumptions, the columns of seed intervention_scenario_assumptions.

    Checked here so a bad value is a plain message, not a number: the table macro itself
    takes whatever it is given, as the mart takes the seed (whose data tests check it).
    """

    target_risk_bands: tuple[str, ...]
    capacity: int | None
    save_rate: float
    requires_engagement: bool
    contact_cost: float
    horizon_days: int

    def __post_init__(self) -> None:
        problems = []
        if not self.target_risk_bands or any(not band or "|" in band for band in self.target_risk_bands):
            problems.append(f"target at least one risk band (names without '|'); got {list(self.target_risk_bands)}")
        if self.capacity is not None and self.capacity < 0:
            problems.append(f"capacity must be 0 or more (or no limit); got {self.capacity}")
        if not 0 <= self.save_rate <= 1:
            problems.append(f"save rate must be from 0 to 1; got {self.save_rate}")
        if self.contact_cost < 0:
            problems.append(f"contact cost must be 0 or more; got {self.contact_cost}")
        if self.horizon_days < 1:
            problems.append(f"horizon must be at least 1 day; got {self.horizon_days}")
        if problems:
            raise ValueError("; ".join(problems))


def has_table_macro(connection: Connection, relation: str) -> bool:
    """Whether the warehouse holds a table macro `schema.name` (the decision marts' post-hooks
    create them on DuckDB; a warehouse built before them has none)."""
    schema, name = relation.split(".")
    return bool(
        read_frame(
            connection,
            "select count(*) as n from duckdb_functions() where schema_name = :schema and function_name = :name",
            {"schema": schema, "name": name},
        )["n"][0]
    )


def retention_what_if(connection: Connection, plan: RetentionPlan) -> pd.DataFrame:
    """The intervention_scenarios row of one plan, computed by the mart's own SQL (the table
    macro) with the plan's values bound as parameters: nothing is re-implemented here."""
    return read_frame(
        connection,
        f"""
        select * from {RETENTION_WHAT_IF}(
            :target_risk_bands, :capacity, :save_rate, :requires_engagement, :contact_cost, :horizon_days
        )
        """,
        {
            "target_risk_bands": "|".join(plan.target_risk_bands),
            "capacity": None if plan.capacity is None else int(plan.capacity),
            "save_rate": float(plan.save_rate),
            "requires_engagement": bool(plan.requires_engagement),
            "contact_cost": float(plan.contact_cost),
            "horizon_days": int(plan.horizon_days),
        },
    )


#: The DuckDB table macro the funnel_what_if mart's post-hook creates: the mart's SQL
#: (macro funnel_what_if_sql) over one scenario 'explorer' of per-stage uplifts.
FUNNEL_WHAT_IF = "marts.funnel_what_if_explorer"


def funnel_what_if(connection: Connection, uplifts: Mapping[str, float]) -> pd.DataFrame:
    """The funnel_what_if rows (baseline and 'explorer', by stage) of per-stage uplifts in
    percentage points, computed by the mart's own SQL (the table macro) with the uplifts
    bound as two lists. An unknown stage or an uplift outside [-1, 1] is refused, as the
    mart's funnel_uplift var is."""
    stages = distinct_values(connection, "marts.care_journey_funnel", "stage")
    problems = [f"unknown stage {stage!r} (stages: {', '.join(stages)})" for stage in uplifts if stage not in stages]
    problems += [
        f"the uplift of stage {stage!r} must be from -1 to 1 (0.05 = +5 points); got {value}"
        for stage, value in uplifts.items()
        if not -1 <= value <= 1
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return read_frame(
        connection,
        f"select * from {FUNNEL_WHAT_IF}(:stages, :uplifts) order by scenario, stage_order",
        {"stages": list(uplifts), "uplifts": [float(value) for value in uplifts.values()]},
    )


def revenue_concentration(connection: Connection) -> pd.DataFrame:
    """Cumulative revenue share of the top p% of providers (marts.provider_revenue_concentration)."""
    return read_frame(
        connection,
        """
        select provider_percentile, top_providers, providers, cumulative_revenue_share
        from marts.provider_revenue_concentration
        order by provider_percentile
        """,
    )


def churn_drivers(
    connection: Connection, dimensions: Sequence[str], min_patients: int, only_significant: bool
) -> pd.DataFrame:
    """Churn drivers of the chosen dimensions, groups of at least min_patients; significant:
    the 95% interval of the group's churn rate excludes the overall rate."""
    params: dict[str, object] = {"min_patients": int(min_patients)}
    where = _in_list("dimension", "dimension", dimensions, params)
    significant = (
        "(churn_rate_ci_low > overall_churn_rate or churn_rate_ci_high < overall_churn_rate)"
        if only_significant
        else "true"
    )
    return read_frame(
        connection,
        f"""
        select dimension, dimension_value, patients, churned_patients, churn_rate,
            churn_rate_ci_low, churn_rate_ci_high, overall_churn_rate, diff_vs_overall, relative_risk
        from marts.churn_drivers
        where dimension <> 'overall' and {where} and patients >= :min_patients and {significant}
        order by relative_risk desc nulls last, dimension, dimension_value
        """,
        params,
    )


def _worklist_where(chosen: WorklistFilter, params: dict[str, object]) -> str:
    params["min_churn_probability"] = float(chosen.min_churn_probability)
    clauses = [
        _in_list("churn_risk_band", "band", chosen.risk_bands, params),
        _in_list("recommended_channel", "channel", chosen.channels, params),
        _in_list("intervention", "intervention", chosen.interventions, params),
        "churn_probability >= :min_churn_probability",
        "is_worth_contacting" if chosen.only_worth_contacting else "true",
    ]
    return " and ".join(clauses)


def worklist(connection: Connection, chosen: WorklistFilter) -> tuple[pd.DataFrame, int]:
    """The filtered, sorted outreach worklist (at most chosen.limit rows) and how many rows match.

    The sort column must be one of WORKLIST_COLUMNS (it is an identifier, so it cannot be bound);
    priority_rank breaks ties so the order is deterministic.
    """
    if chosen.sort_by not in WORKLIST_COLUMNS:
        raise ValueError(f"cannot sort the worklist by {chosen.sort_by!r}; choose one of {', '.join(WORKLIST_COLUMNS)}")
    params: dict[str, object] = {}
    where = _worklist_where(chosen, params)
    direction = "desc" if chosen.descending else "asc"
    limit = ""
    if chosen.limit is not None:
        params["limit"] = int(chosen.limit)
        limit = "limit :limit"
    rows = read_frame(
        connection,
        f"""
        select {", ".join(WORKLIST_COLUMNS)}
        from marts.outreach_priority
        where {where}
        order by {chosen.sort_by} {direction} nulls last, priority_rank
        {limit}
        """,
        params,
    )
    count_params: dict[str, object] = {}
    total = read_frame(
        connection,
        f"select count(*) as n from marts.outreach_priority where {_worklist_where(chosen, count_params)}",
        count_params,
    )["n"][0]
    return rows, int(total)


def segment_roi(connection: Connection) -> pd.DataFrame:
    """Provider segments with their revenue share, visit investment and ROI."""
    return read_frame(
        connection,
        """
        select segment, providers, provider_share, total_revenue, revenue_share, visits_per_quarter,
            investment, profit, roi, recommended_action
        from marts.segment_roi
        order by segment_priority
        """,
    )


def providers(
    connection: Connection, segments: Sequence[str], states: Sequence[str], specialties: Sequence[str], limit: int
) -> pd.DataFrame:
    """Providers of the chosen segments, states and specialties, highest revenue first."""
    params: dict[str, object] = {"limit": int(limit)}
    where = " and ".join(
        (
            _in_list("s.segment", "segment", segments, params),
            _in_list("d.state", "state", states, params),
            _in_list("d.specialty", "specialty", specialties, params),
        )
    )
    return read_frame(
        connection,
        f"""
        select s.provider_id, d.specialty, d.state, s.segment, s.claim_count, s.distinct_patients,
            s.total_revenue, s.recency_days, s.revenue_growth
        from marts.provider_segments as s
        inner join marts.dim_providers as d on s.provider_id = d.provider_id
        where {where}
        order by s.total_revenue desc, s.provider_id
        limit :limit
        """,
        params,
    )
