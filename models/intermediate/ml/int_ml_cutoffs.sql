{#- The point-in-time grid of the ML step: one row per cutoff date.

    Month ends from the first month with enough history up to the as-of date, plus the
    as-of date itself (the scoring cutoff). Month ends do not depend on the as-of date, so
    a warehouse built on data cut at an earlier date has exactly the same earlier cutoffs:
    that is what the leakage test compares. A cutoff is labelled when its whole churn
    window (churn_inactivity_days after it) has been observed by the as-of date. -#}
{%- set horizon = var('churn_inactivity_days') -%}
{%- set min_history_days = 60 -%}
with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

history as (
    select
        cast({{ dbt.date_trunc('month', 'min(cast(event_at as date))') }} as date) as first_month,
        min(cast(event_at as date)) as first_activity_date
    from events
),

month_numbers as (
    {{ dbt.generate_series(600) }}
),

month_ends as (
    select
        cast(
            {{ dbt.last_day(dbt.dateadd('month', 'month_numbers.generated_number - 1', 'history.first_month'), 'month') }}
            as date
        ) as cutoff_date,
        history.first_activity_date
    from month_numbers
    cross join history
),

historical_cutoffs as (
    select month_ends.cutoff_date
    from month_ends
    cross join analysis_date
    where
        month_ends.cutoff_date
        >= cast({{ dbt.dateadd('day', min_history_days, 'month_ends.first_activity_date') }} as date)
        and month_ends.cutoff_date < analysis_date.as_of_date
),

all_cutoffs as (
    select
        cutoff_date,
        false as is_scoring_cutoff
    from historical_cutoffs
    union all
    select
        as_of_date as cutoff_date,
        true as is_scoring_cutoff
    from analysis_date
),

final as (
    select
        all_cutoffs.cutoff_date,
        all_cutoffs.is_scoring_cutoff,
        {{ horizon }} as label_window_days,
        cast({{ dbt.dateadd('day', horizon, 'all_cutoffs.cutoff_date') }} as date) as label_window_end,
        cast({{ dbt.dateadd('day', horizon, 'all_cutoffs.cutoff_date') }} as date)
        <= analysis_date.as_of_date as is_labelled,
        analysis_date.as_of_date
    from all_cutoffs
    cross join analysis_date
)

select * from final
