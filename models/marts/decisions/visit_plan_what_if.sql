{#- Study 004's what-if: what would another visit plan cost and return? One row per
    scenario x segment (grain 'segment') and one per scenario for the whole portfolio
    (grain 'portfolio', segment 'All segments').

    Scenarios: 'current_plan' (seed segment_visit_plans at the var cost_per_visit, i.e.
    segment_roi) and every scenario of seed visit_plan_alternatives; a segment a scenario
    does not list keeps the current plan. Segment sizes and revenue are today's
    (segment_roi, provider_segments): the what-if changes the cost side only.
      investment     providers x visits_per_quarter x cost_per_visit (one quarter)
      roi            total revenue up to the as-of date / investment (segment_roi's
                     arithmetic, the study's "44:1")
      quarterly_roi  revenue of the last provider_revenue_window_days (90) / investment:
                     a quarter's revenue against a quarter's visits. -#}
{%- set cost_per_visit = var('cost_per_visit') %}

with segment_roi as (
    select * from {{ ref('segment_roi') }}
),

provider_segments as (
    select * from {{ ref('provider_segments') }}
),

alternatives as (
    select * from {{ ref('visit_plan_alternatives') }}
),

recent_revenue as (
    select
        segment,
        sum(revenue_last_90d) as quarterly_revenue
    from provider_segments
    group by segment
),

scenarios as (
    select
        'current_plan' as scenario,
        'The plan of seed segment_visit_plans at the cost_per_visit var (segment_roi).' as scenario_description
    union all
    select
        scenario,
        max(scenario_description) as scenario_description
    from alternatives
    group by scenario
),

segment_plans as (
    select
        scenarios.scenario,
        scenarios.scenario_description,
        segment_roi.segment,
        segment_roi.segment_priority,
        segment_roi.providers,
        cast(segment_roi.total_revenue as {{ carepulse.type_double() }}) as total_revenue,
        cast(coalesce(recent_revenue.quarterly_revenue, 0) as {{ carepulse.type_double() }}) as quarterly_revenue,
        segment_roi.visits_per_quarter as current_visits_per_quarter,
        cast(segment_roi.investment as {{ carepulse.type_double() }}) as current_investment,
        coalesce(alternatives.visits_per_quarter, segment_roi.visits_per_quarter) as visits_per_quarter,
        cast(coalesce(alternatives.cost_per_visit, {{ cost_per_visit }}) as {{ carepulse.type_double() }})
            as cost_per_visit,
        alternatives.segment is not null as is_changed_by_scenario
    from scenarios
    cross join segment_roi
    left join recent_revenue
        on segment_roi.segment = recent_revenue.segment
    left join alternatives
        on
            scenarios.scenario = alternatives.scenario
            and segment_roi.segment = alternatives.segment
),

segment_rows as (
    select
        scenario,
        scenario_description,
        'segment' as grain,
        segment,
        segment_priority,
        providers,
        total_revenue,
        quarterly_revenue,
        visits_per_quarter,
        cost_per_visit,
        providers * visits_per_quarter as visits,
        providers * visits_per_quarter * cost_per_visit as investment,
        current_investment,
        is_changed_by_scenario
    from segment_plans
),

portfolio_rows as (
    select
        scenario,
        max(scenario_description) as scenario_description,
        'portfolio' as grain,
        'All segments' as segment,
        cast(null as {{ dbt.type_int() }}) as segment_priority,
        sum(providers) as providers,
        sum(total_revenue) as total_revenue,
        sum(quarterly_revenue) as quarterly_revenue,
        cast(null as {{ dbt.type_int() }}) as visits_per_quarter,
        {{ carepulse.safe_ratio('sum(investment)', 'sum(visits)') }} as cost_per_visit,
        sum(visits) as visits,
        sum(investment) as investment,
        sum(current_investment) as current_investment,
        max(case when is_changed_by_scenario then 1 else 0 end) = 1 as is_changed_by_scenario
    from segment_rows
    group by scenario
),

all_rows as (
    select * from segment_rows
    union all
    select * from portfolio_rows
),

final as (
    select
        scenario,
        scenario_description,
        grain,
        segment,
        cast(segment_priority as {{ dbt.type_int() }}) as segment_priority,
        cast(providers as {{ dbt.type_bigint() }}) as providers,
        cast(visits_per_quarter as {{ dbt.type_int() }}) as visits_per_quarter,
        cast(cost_per_visit as {{ carepulse.type_double() }}) as cost_per_visit,
        cast(visits as {{ dbt.type_bigint() }}) as visits,
        cast(investment as {{ carepulse.type_double() }}) as investment,
        cast(investment - current_investment as {{ carepulse.type_double() }}) as investment_change,
        cast(total_revenue as {{ carepulse.type_double() }}) as total_revenue,
        cast(quarterly_revenue as {{ carepulse.type_double() }}) as quarterly_revenue,
        case
            when investment > 0 then cast(total_revenue / investment as {{ carepulse.type_double() }})
        end as roi,
        case
            when investment > 0 then cast(quarterly_revenue / investment as {{ carepulse.type_double() }})
        end as quarterly_roi,
        is_changed_by_scenario
    from all_rows
)

select * from final
