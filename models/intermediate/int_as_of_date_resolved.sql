{#- The analysis date every "days since" and "active" figure is relative to.
    CAREPULSE_AS_OF when set; otherwise the latest activity date in the data. Dates later
    than the build day cannot be activity yet (they are future-dated bad rows) and are
    ignored here, so one bad row cannot move the analysis date. -#}
{% set configured = carepulse.configured_as_of_date() %}

with events as (
    select * from {{ ref('stg_platform__engagement_events') }}
),

claims as (
    select * from {{ ref('stg_claims__claims') }}
),

calls as (
    select * from {{ ref('stg_platform__outreach_calls') }}
),

activity_dates as (
    select cast(event_at as date) as activity_date from events
    union all
    select claim_end_date as activity_date from claims
    union all
    select cast(called_at as date) as activity_date from calls
),

resolved as (
    {% if configured %}
        -- Configured: the activity tables are not scanned at all.
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
