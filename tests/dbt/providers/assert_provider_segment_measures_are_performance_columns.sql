{#- Errors (column not found) when a measure the rules may name, provider_segment_measures(),
    is no longer a column of provider_performance; returns no rows otherwise. -#}
with performance as (
    select * from {{ ref('provider_performance') }}
),

listed_measures as (
    select {{ carepulse.provider_segment_measures() | join(', ') }}
    from performance
),

final as (
    select * from listed_measures
    where 1 = 0
)

select * from final
