{{ config(materialized='view') }}

{#- The engagement events that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_engagement_events_checked') }}
),

final as (
    select
        event_id,
        patient_id,
        event_at,
        event_type,
        revenue_usd
    from checked
    where failed_rule is null
)

select * from final
