{#- Provider measures at each snapshot date (int_provider_snapshot_dates_generated), one row per
    provider with at least one accepted claim by then. provider_performance is the as-of
    snapshot; the month-end snapshots feed the segment history, so both use one definition.
    Running totals come from the monthly rollup: every claim of a snapshot's month ends on or
    before the snapshot (month ends close their month; no accepted claim ends after as-of).
    The recent-revenue windows need days, so they read the claims of the last two windows. -#}
{%- set window_days = var('provider_revenue_window_days') | int -%}
with snapshots as (
    select * from {{ ref('int_provider_snapshot_dates_generated') }}
),

claim_months as (
    select * from {{ ref('int_provider_months_aggregated') }}
),

claims as (
    select * from {{ ref('int_claims_accepted') }}
),

running_totals as (
    select
        snapshots.snapshot_date,
        claim_months.provider_id,
        sum(claim_months.claim_count) as claim_count,
        sum(claim_months.new_patients) as distinct_patients,
        sum(claim_months.revenue) as total_revenue,
        -- revenue is decimal(18, 2): its cents are exact integers
        cast(sum(claim_months.revenue) * 100 as {{ dbt.type_bigint() }}) as revenue_cents,
        min(claim_months.first_claim_date) as first_claim_date,
        max(claim_months.last_claim_date) as last_claim_date,
        -- the rollup has a row only for months with claims
        count(*) as active_months
    from snapshots
    inner join claim_months
        on snapshots.snapshot_month >= claim_months.claim_month
    group by snapshots.snapshot_date, claim_months.provider_id
),

window_bounds as (
    -- last window: (snapshot - N days, snapshot]; prior window: the N days before it
    select
        snapshot_date,
        cast({{ dbt.dateadd('day', -window_days, 'snapshot_date') }} as date) as last_window_start,
        cast({{ dbt.dateadd('day', -2 * window_days, 'snapshot_date') }} as date) as prior_window_start
    from snapshots
),

windowed_revenue as (
    select
        window_bounds.snapshot_date,
        claims.provider_id,
        sum(
            case
                when claims.claim_end_date > window_bounds.last_window_start then claims.paid_amount else 0
            end
        ) as revenue_last_window,
        sum(
            case
                when claims.claim_end_date <= window_bounds.last_window_start then claims.paid_amount else 0
            end
        ) as revenue_prior_window
    from window_bounds
    inner join claims
        on
            window_bounds.prior_window_start < claims.claim_end_date
            and window_bounds.snapshot_date >= claims.claim_end_date
    group by window_bounds.snapshot_date, claims.provider_id
),

measures as (
    select
        running_totals.snapshot_date,
        running_totals.provider_id,
        running_totals.claim_count,
        running_totals.distinct_patients,
        running_totals.total_revenue,
        -- in whole cents, rounded half up, so every engine gives the same cents: DuckDB divides
        -- a decimal by an integer in double, Spark exactly. (2c + n) / (2n) is a quotient of
        -- exact integers, at least 1 / (2c + n) from an integer when it is not one, so its
        -- floor is exact in double on any engine
        floor(
            cast(2 * running_totals.revenue_cents + running_totals.claim_count as {{ carepulse.type_double() }})
            / cast(2 * running_totals.claim_count as {{ carepulse.type_double() }})
        ) / 100.0 as avg_claim_amount,
        running_totals.first_claim_date,
        running_totals.last_claim_date,
        {{ dbt.datediff(
            'running_totals.last_claim_date', 'running_totals.snapshot_date', 'day'
        ) }} as recency_days,
        running_totals.active_months,
        coalesce(windowed_revenue.revenue_last_window, 0) as revenue_last_90d,
        coalesce(windowed_revenue.revenue_prior_window, 0) as revenue_prior_90d
    from running_totals
    left join windowed_revenue
        on
            running_totals.snapshot_date = windowed_revenue.snapshot_date
            and running_totals.provider_id = windowed_revenue.provider_id
),

final as (
    select
        snapshot_date,
        provider_id,
        cast(claim_count as {{ dbt.type_bigint() }}) as claim_count,
        cast(distinct_patients as {{ dbt.type_bigint() }}) as distinct_patients,
        cast(total_revenue as decimal(18, 2)) as total_revenue,
        cast(avg_claim_amount as decimal(18, 2)) as avg_claim_amount,
        first_claim_date,
        last_claim_date,
        cast(recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(active_months as {{ dbt.type_int() }}) as active_months,
        cast(revenue_last_90d as decimal(18, 2)) as revenue_last_90d,
        cast(revenue_prior_90d as decimal(18, 2)) as revenue_prior_90d,
        -- relative change; undefined (null) without revenue in the prior window
        case
            when revenue_prior_90d > 0
                then cast((revenue_last_90d - revenue_prior_90d) as double) / cast(revenue_prior_90d as double)
        end as revenue_growth
    from measures
)

select * from final
