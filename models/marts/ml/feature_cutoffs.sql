{#- The point-in-time grid of the ML step: one row per cutoff date.

    Cutoffs step back from the as-of date in periods of var ml_period_days (30) days:
    cutoff k = as_of_date - 30 k, k = 0 (the scoring cutoff) .. the oldest cutoff at least
    var ml_min_history_days (60) after the first activity. A 30-day grid keeps every
    feature window (30, 90, 180, 360 days) a whole number of periods, so features are sums
    of per-period aggregates (linear in the data, see int_patient_periods_aggregated) and
    exact to the day. The grid of a warehouse whose data end 30 m days earlier is the same
    grid minus its m newest cutoffs: the leakage test relies on that. A cutoff is labelled
    when its churn window (churn_inactivity_days after it) ends on or before the as-of
    date. -#}
{%- set horizon = var('churn_inactivity_days') -%}
{%- set period_days = var('ml_period_days') -%}
{%- set min_history_days = var('ml_min_history_days') -%}
with event_days as (
    select * from {{ ref('int_patient_days_aggregated') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

history as (
    select min(activity_date) as first_activity_date
    from event_days
),

periods as (
    {{ carepulse.ml_period_offsets() }}
),

grid as (
    select
        periods.period_index,
        cast({{ dbt.dateadd('day', 'periods.days_offset', 'analysis_date.as_of_date') }} as date) as cutoff_date,
        analysis_date.as_of_date,
        history.first_activity_date
    from periods
    cross join analysis_date
    cross join history
),

final as (
    select
        cast(period_index as {{ dbt.type_int() }}) as period_index,
        cutoff_date,
        period_index = 0 as is_scoring_cutoff,
        {{ period_days }} as period_days,
        {{ horizon }} as label_window_days,
        cast({{ dbt.dateadd('day', horizon, 'cutoff_date') }} as date) as label_window_end,
        cast({{ dbt.dateadd('day', horizon, 'cutoff_date') }} as date) <= as_of_date as is_labelled,
        as_of_date
    from grid
    where
        period_index = 0
        or cutoff_date >= cast({{ dbt.dateadd('day', min_history_days, 'first_activity_date') }} as date)
)

select * from final
