{#- One row: segment_roi summed over all segments (the study's "overall ROI").
    Same arithmetic: all revenue up to the as-of date over one quarter of visits. -#}
with segment_roi as (
    select * from {{ ref('segment_roi') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

totals as (
    select
        count(*) as segments,
        sum(providers) as providers,
        sum(claim_count) as claim_count,
        sum(total_revenue) as total_revenue,
        sum(providers * visits_per_quarter) as visits_per_quarter,
        sum(investment) as investment,
        sum(profit) as profit
    from segment_roi
),

final as (
    select
        analysis_date.as_of_date,
        cast(totals.segments as {{ dbt.type_int() }}) as segments,
        cast(totals.providers as {{ dbt.type_bigint() }}) as providers,
        cast(totals.claim_count as {{ dbt.type_bigint() }}) as claim_count,
        cast(totals.total_revenue as decimal(18, 2)) as total_revenue,
        case
            when totals.providers > 0
                then cast(totals.total_revenue / totals.providers as decimal(18, 2))
        end as avg_revenue_per_provider,
        case
            when totals.providers > 0
                then cast(totals.claim_count as double) / cast(totals.providers as double)
        end as avg_claims_per_provider,
        cast(totals.visits_per_quarter as {{ dbt.type_bigint() }}) as visits_per_quarter,
        cast({{ var('cost_per_visit') }} as decimal(18, 2)) as cost_per_visit,
        cast(totals.investment as decimal(18, 2)) as investment,
        cast(totals.profit as decimal(18, 2)) as profit,
        case
            when totals.investment > 0
                then cast(totals.total_revenue as double) / cast(totals.investment as double)
        end as roi
    from totals
    cross join analysis_date
)

select * from final
