{#- The point-in-time grid of the ML step: one row per cutoff date.

    Training cutoffs are fixed calendar dates: the ends of the periods of var
    ml_period_days (30) days counted from var ml_cutoff_anchor_date (macro ml_period_index),
    from the oldest at least var ml_min_history_days (60) after the first activity to the
    newest on or before the as-of date. A new day of data does not move them, so their
    feature and label rows stay (issue 13.3). A 30-day grid keeps every feature window
    (30, 90, 180, 360 days) a whole number of periods, so features are sums of per-period
    aggregates (linear in the data, see int_patient_periods_aggregated) and exact to the
    day. The scoring cutoff is the as-of date itself (is_scoring_cutoff), a grid date or
    between two; its period_index is the period holding it. A warehouse whose data end on
    an earlier grid date has the same grid minus the newer cutoffs: the leakage test relies
    on that. A cutoff is labelled when its churn window (churn_inactivity_days after it)
    ends on or before the as-of date. -#}
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

bounds as (
    select
        analysis_date.as_of_date,
        {{ carepulse.ml_period_index('analysis_date.as_of_date') }} as as_of_period_index,
        history.first_activity_date
    from analysis_date
    cross join history
),

grid as (
    select
        bounds.as_of_period_index - periods.periods_back as period_index,
        {{ carepulse.ml_period_end_date('bounds.as_of_period_index - periods.periods_back') }} as cutoff_date,
        bounds.as_of_date,
        bounds.first_activity_date
    from periods
    cross join bounds
),

-- the period ends up to the as-of date, and the as-of date itself when it is not one
cutoffs as (
    select
        period_index,
        cutoff_date,
        as_of_date
    from grid
    where
        cutoff_date <= as_of_date
        and (
            cutoff_date = as_of_date
            or cutoff_date >= cast({{ dbt.dateadd('day', min_history_days, 'first_activity_date') }} as date)
        )
    union all
    select
        as_of_period_index as period_index,
        as_of_date as cutoff_date,
        as_of_date
    from bounds
    where {{ carepulse.ml_period_end_date('as_of_period_index') }} > as_of_date
),

final as (
    select
        cast(period_index as {{ dbt.type_int() }}) as period_index,
        cutoff_date,
        cutoff_date = as_of_date as is_scoring_cutoff,
        {{ period_days }} as period_days,
        {{ horizon }} as label_window_days,
        cast({{ dbt.dateadd('day', horizon, 'cutoff_date') }} as date) as label_window_end,
        cast({{ dbt.dateadd('day', horizon, 'cutoff_date') }} as date) <= as_of_date as is_labelled,
        as_of_date
    from cutoffs
)

select * from final
