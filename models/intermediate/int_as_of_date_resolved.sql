{#- The analysis date every "days since" and "active" figure is relative to.
    CAREPULSE_AS_OF when set; otherwise the latest activity date in the data. Dates later
    than the build day cannot be activity yet (they are future-dated bad rows) and are
    ignored here, so one bad row cannot move the analysis date. The activity dates come
    from int_activity_dates_by_file_collected (the distinct dates of each raw file of events,
    claims and calls), which a daily build extends with the new files only. -#}
{% set configured = carepulse.configured_as_of_date() %}

with activity_dates as (
    select * from {{ ref('int_activity_dates_by_file_collected') }}
),

resolved as (
    {% if configured %}
        -- Configured: the activity dates are not read at all.
        select
            cast({{ carepulse.quoted_literal(configured.isoformat()) }} as date) as as_of_date,
            'CAREPULSE_AS_OF' as as_of_source
    {% else %}
        select
            max(activity_date) as as_of_date,
            'latest_activity' as as_of_source
        from activity_dates
        where activity_date <= current_date
    {% endif %}
),

final as (
    select
        as_of_date,
        as_of_source
    from resolved
)

select * from final
