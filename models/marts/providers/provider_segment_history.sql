{#- The segment of each provider at each month end (the last provider_history_months
    month ends on or before the as-of date), with the measures that placed it and the
    segment at the previous month end, so moves such as Rising Stars -> Champions show.
    Each month end is segmented against its own population: the measures are as of that
    day and percentile thresholds are that day's percentiles. -#}
with snapshots as (
    select * from {{ ref('int_provider_snapshot_dates_generated') }}
),

measures as (
    select * from {{ ref('int_provider_measures_snapshotted') }}
),

segments as (
    select * from {{ ref('int_provider_segments_assigned') }}
),

month_end_segments as (
    select
        snapshots.snapshot_date as month_end_date,
        segments.provider_id,
        segments.segment,
        segments.segment_priority,
        segments.segment_rule,
        measures.claim_count,
        measures.distinct_patients,
        measures.total_revenue,
        measures.avg_claim_amount,
        measures.first_claim_date,
        measures.last_claim_date,
        measures.recency_days,
        measures.active_months,
        measures.revenue_last_90d,
        measures.revenue_prior_90d,
        measures.revenue_growth
    from snapshots
    inner join segments
        on snapshots.snapshot_date = segments.snapshot_date
    inner join measures
        on
            segments.snapshot_date = measures.snapshot_date
            and segments.provider_id = measures.provider_id
    where snapshots.is_month_end
),

with_previous as (
    select
        *,
        -- a provider's first month end has no previous segment
        lag(segment) over (partition by provider_id order by month_end_date) as previous_segment
    from month_end_segments
),

final as (
    select
        month_end_date,
        provider_id,
        segment,
        segment_priority,
        segment_rule,
        previous_segment,
        coalesce(previous_segment <> segment, false) as is_segment_change,
        claim_count,
        distinct_patients,
        total_revenue,
        avg_claim_amount,
        first_claim_date,
        last_claim_date,
        recency_days,
        active_months,
        revenue_last_90d,
        revenue_prior_90d,
        revenue_growth
    from with_previous
)

select * from final
