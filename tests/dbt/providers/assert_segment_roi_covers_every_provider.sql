{#- Fails when segment_roi does not account for every provider and every dollar of
    provider_performance once (each provider in exactly one segment of the seed). -#}
with segment_roi as (
    select * from {{ ref('segment_roi') }}
),

performance as (
    select * from {{ ref('provider_performance') }}
),

roi_totals as (
    select
        sum(providers) as providers,
        sum(total_revenue) as total_revenue
    from segment_roi
),

performance_totals as (
    select
        count(*) as providers,
        coalesce(sum(total_revenue), 0) as total_revenue
    from performance
),

final as (
    select
        roi_totals.providers as roi_providers,
        performance_totals.providers as performance_providers,
        roi_totals.total_revenue as roi_revenue,
        performance_totals.total_revenue as performance_revenue
    from roi_totals
    cross join performance_totals
    where
        roi_totals.providers <> performance_totals.providers
        or roi_totals.total_revenue <> performance_totals.total_revenue
)

select * from final
