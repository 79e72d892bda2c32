{#- The dates provider measures and segments are computed at: the as-of date (the
    current picture) and the last `provider_history_months` month ends on or before it,
    from the month of the first accepted claim on (the segment history).
    When the as-of date is a month end, one row is both. -#}
{%- set history_months = var('provider_history_months') | int -%}
with analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

claims as (
    select * from {{ ref('int_claims_accepted') }}
),

claim_span as (
    select cast({{ dbt.date_trunc('month', 'min(claim_end_date)') }} as date) as first_claim_month
    from claims
),

last_month_end as (
    -- the as-of date itself when it is a month end, else the end of the month before
    select
        case
            when {{ dbt.last_day('as_of_date', 'month') }} = as_of_date then as_of_date
            else cast({{ dbt.dateadd('day', -1, dbt.date_trunc('month', 'as_of_date')) }} as date)
        end as month_end_date
    from analysis_date
),

digits as (
    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9
),

month_offsets as (
    -- 0..999 without generate_series, which is not portable
    select ones.digit + 10 * tens.digit + 100 * hundreds.digit as month_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
),

month_starts as (
    select
        cast({{ dbt.dateadd(
            'month', '-month_offsets.month_offset', dbt.date_trunc('month', 'last_month_end.month_end_date')
        ) }} as date) as month_start_date
    from last_month_end
    cross join month_offsets
    where month_offsets.month_offset < {{ history_months }}
),

month_ends as (
    select cast({{ dbt.last_day('month_starts.month_start_date', 'month') }} as date) as snapshot_date
    from month_starts
    cross join claim_span
    where month_starts.month_start_date >= claim_span.first_claim_month
),

as_of_snapshot as (
    select as_of_date as snapshot_date
    from analysis_date
),

final as (
    select
        coalesce(month_ends.snapshot_date, as_of_snapshot.snapshot_date) as snapshot_date,
        cast({{ dbt.date_trunc(
            'month', 'coalesce(month_ends.snapshot_date, as_of_snapshot.snapshot_date)'
        ) }} as date) as snapshot_month,
        as_of_snapshot.snapshot_date is not null as is_as_of,
        month_ends.snapshot_date is not null as is_month_end
    from month_ends
    full outer join as_of_snapshot
        on month_ends.snapshot_date = as_of_snapshot.snapshot_date
)

select * from final
