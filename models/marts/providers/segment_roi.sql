{#- One row per segment of the rules seed (also when no provider falls in it): size,
    revenue, the visit plan's quarterly cost and what it returns.
    The study's arithmetic, kept on purpose: investment is one quarter of visits
    (providers x visits_per_quarter x cost_per_visit) while revenue is all accepted
    revenue up to the as-of date, and roi = revenue / investment (dollars returned per
    dollar of one quarter's visits). -#}
{%- set cost_per_visit = var('cost_per_visit') -%}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

visit_plans as (
    select * from {{ ref('segment_visit_plans') }}
),

provider_segments as (
    select * from {{ ref('provider_segments') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

segments as (
    select
        segment,
        min(priority) as segment_priority
    from rules
    group by segment
),

segment_totals as (
    select
        segment,
        count(*) as providers,
        sum(claim_count) as claim_count,
        sum(total_revenue) as total_revenue
    from provider_segments
    group by segment
),

segment_economics as (
    select
        segments.segment,
        segments.segment_priority,
        coalesce(segment_totals.providers, 0) as providers,
        coalesce(segment_totals.claim_count, 0) as claim_count,
        cast(coalesce(segment_totals.total_revenue, 0) as decimal(18, 2)) as total_revenue,
        visit_plans.visits_per_quarter,
        cast({{ cost_per_visit }} as decimal(18, 2)) as cost_per_visit,
        cast(
            coalesce(segment_totals.providers, 0) * visit_plans.visits_per_quarter * {{ cost_per_visit }}
            as decimal(18, 2)
        ) as investment,
        visit_plans.recommended_action
    from segments
    left join segment_totals
        on segments.segment = segment_totals.segment
    left join visit_plans
        on segments.segment = visit_plans.segment
),

with_profit as (
    select
        *,
        total_revenue - investment as profit
    from segment_economics
),

portfolio as (
    select
        sum(providers) as providers,
        sum(total_revenue) as total_revenue,
        sum(total_revenue - investment) as profit
    from with_profit
),

final as (
    select
        with_profit.segment,
        with_profit.segment_priority,
        analysis_date.as_of_date,
        cast(with_profit.providers as {{ dbt.type_bigint() }}) as providers,
        case
            when portfolio.providers > 0
                then cast(with_profit.providers as double) / cast(portfolio.providers as double)
        end as provider_share,
        cast(with_profit.claim_count as {{ dbt.type_bigint() }}) as claim_count,
        with_profit.total_revenue,
        case
            when portfolio.total_revenue <> 0
                then cast(with_profit.total_revenue as double) / cast(portfolio.total_revenue as double)
        end as revenue_share,
        case
            when with_profit.providers > 0
                then cast(with_profit.total_revenue / with_profit.providers as decimal(18, 2))
        end as avg_revenue_per_provider,
        case
            when with_profit.providers > 0
                then cast(with_profit.claim_count as double) / cast(with_profit.providers as double)
        end as avg_claims_per_provider,
        cast(with_profit.visits_per_quarter as {{ dbt.type_int() }}) as visits_per_quarter,
        with_profit.cost_per_visit,
        with_profit.investment,
        cast(with_profit.profit as decimal(18, 2)) as profit,
        case
            when portfolio.profit <> 0
                then cast(with_profit.profit as double) / cast(portfolio.profit as double)
        end as profit_share,
        case
            when with_profit.investment > 0
                then cast(with_profit.total_revenue as double) / cast(with_profit.investment as double)
        end as roi,
        with_profit.recommended_action
    from with_profit
    cross join portfolio
    cross join analysis_date
)

select * from final
