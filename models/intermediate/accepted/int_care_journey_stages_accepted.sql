{{ config(materialized='view') }}

{#- The care journey stages that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_care_journey_stages_checked') }}
),

final as (
    select
        patient_id,
        stage,
        entered_at,
        completed_at
    from checked
    where failed_rule is null
)

select * from final
