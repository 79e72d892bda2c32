{#- One row per provider with at least one accepted claim: volume, revenue and activity
    measures as of the analysis date (int_as_of_date_resolved). -#}
with snapshots as (
    select * from {{ ref('int_provider_snapshot_dates_generated') }}
),

measures as (
    select * from {{ ref('int_provider_measures_snapshotted') }}
),

as_of_measures as (
    select
        measures.provider_id,
        measures.snapshot_date as as_of_date,
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
    from measures
    inner join snapshots
        on measures.snapshot_date = snapshots.snapshot_date
    where snapshots.is_as_of
),

final as (
    select
        provider_id,
        as_of_date,
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
    from as_of_measures
)

select * from final
