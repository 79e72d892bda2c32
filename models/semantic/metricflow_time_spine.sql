{{ config(materialized='table', schema='marts') }}

{#- MetricFlow's day time spine: one row per calendar day from earliest_valid_date (the
    first date any activity may have) to the end of 2049. MetricFlow joins to it for
    metric_time at a coarser grain, cumulative metrics and filling empty periods; it is
    never joined by the marts. A fixed range keeps the build independent of the clock. -#}
with days as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('earliest_valid_date') ~ "' as date)",
        "cast('2050-01-01' as date)",
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
