{#- Every accepted event and dollar lands in exactly one patient-month. -#}
with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

monthly as (
    select * from {{ ref('patient_activity_monthly') }}
),

event_totals as (
    select
        count(*) as events,
        coalesce(sum(revenue_usd), 0) as revenue_usd
    from events
),

monthly_totals as (
    select
        coalesce(sum(events), 0) as events,
        coalesce(sum(revenue_usd), 0) as revenue_usd
    from monthly
)

select
    event_totals.events as accepted_events,
    monthly_totals.events as monthly_events,
    event_totals.revenue_usd as accepted_revenue_usd,
    monthly_totals.revenue_usd as monthly_revenue_usd
from event_totals
cross join monthly_totals
where
    event_totals.events <> monthly_totals.events
    or event_totals.revenue_usd <> monthly_totals.revenue_usd
