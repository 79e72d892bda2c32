{#- Fails when provider, revenue or profit shares of segment_roi do not add up to 1
    (allowing float rounding); skipped for an empty or zero total. -#}
with segment_roi as (
    select * from {{ ref('segment_roi') }}
),

sums as (
    select
        sum(providers) as providers,
        sum(provider_share) as provider_share,
        sum(total_revenue) as total_revenue,
        sum(revenue_share) as revenue_share,
        sum(profit) as profit,
        sum(profit_share) as profit_share
    from segment_roi
),

final as (
    select
        provider_share,
        revenue_share,
        profit_share
    from sums
    where
        (providers > 0 and abs(provider_share - 1) > 1e-9)
        or (total_revenue <> 0 and abs(revenue_share - 1) > 1e-9)
        or (profit <> 0 and abs(profit_share - 1) > 1e-9)
)

select * from final
