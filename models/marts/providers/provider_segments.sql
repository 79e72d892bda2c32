{#- provider_performance with the segment each provider falls in as of the analysis date
    and the rule that placed it (rules: seed provider_segment_rules). -#}
with performance as (
    select * from {{ ref('provider_performance') }}
),

segments as (
    select * from {{ ref('int_provider_segments_assigned') }}
),

final as (
    select
        performance.provider_id,
        performance.as_of_date,
        segments.segment,
        segments.segment_priority,
        segments.segment_rule,
        performance.claim_count,
        performance.distinct_patients,
        performance.total_revenue,
        performance.avg_claim_amount,
        performance.first_claim_date,
        performance.last_claim_date,
        performance.recency_days,
        performance.active_months,
        performance.revenue_last_90d,
        performance.revenue_prior_90d,
        performance.revenue_growth
    from performance
    left join segments
        on
            performance.provider_id = segments.provider_id
            and performance.as_of_date = segments.snapshot_date
)

select * from final
