{{ config(materialized='view') }}

{#- The care journey stages that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_care_journey_stages_checked') }}
),

final as (
    select
        {{- carepulse.select_columns(carepulse.checked_columns('care_journey_stages'), last_comma=false) }}
    from checked
    where failed_rule is null
)

select * from final
