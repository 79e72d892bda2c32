{{ config(materialized='view') }}

{#- The engagement events that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_engagement_events_checked') }}
),

final as (
    select
        {{- carepulse.select_columns(carepulse.checked_columns('engagement_events'), last_comma=false) }}
    from checked
    where failed_rule is null
)

select * from final
