{#- The concentration curve: what share of provider revenue the top p% of providers bring,
    for p = 1..100 ("the top 20% of providers bring x% of revenue"). Providers are those
    of provider_performance (at least one accepted claim) ranked by total_revenue up to
    the as-of date, highest first (ties by provider_id); the top p% is the first
    ceil(p / 100 x providers) of them. -#}
with performance as (
    select * from {{ ref('provider_performance') }}
),

percentiles as (
    {{ dbt.generate_series(100) }}
),

ranked as (
    select
        provider_id,
        total_revenue,
        row_number() over (order by total_revenue desc, provider_id asc) as revenue_rank,
        sum(total_revenue) over (
            order by total_revenue desc, provider_id asc
            rows between unbounded preceding and current row
        ) as running_revenue
    from performance
),

totals as (
    select
        count(*) as providers,
        sum(total_revenue) as total_revenue
    from ranked
),

cutoffs as (
    select
        cast(percentiles.generated_number as {{ dbt.type_int() }}) as provider_percentile,
        totals.providers,
        totals.total_revenue,
        cast(ceiling(percentiles.generated_number * totals.providers / 100.0) as {{ dbt.type_bigint() }})
            as top_providers
    from percentiles
    cross join totals
),

cumulative as (
    select
        cutoffs.provider_percentile,
        cutoffs.providers,
        cutoffs.top_providers,
        cutoffs.total_revenue,
        coalesce(ranked.running_revenue, 0) as top_revenue
    from cutoffs
    left join ranked
        on cutoffs.top_providers = ranked.revenue_rank
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cumulative.provider_percentile,
        analysis_date.as_of_date,
        cast(cumulative.providers as {{ dbt.type_bigint() }}) as providers,
        cast(cumulative.top_providers as {{ dbt.type_bigint() }}) as top_providers,
        cast(cumulative.top_revenue as {{ carepulse.type_money() }}) as top_revenue,
        cast(cumulative.total_revenue as {{ carepulse.type_money() }}) as total_revenue,
        {{ carepulse.safe_ratio('cumulative.top_revenue', 'cumulative.total_revenue') }} as cumulative_revenue_share
    from cumulative
    cross join analysis_date
)

select * from final
