{{ config(materialized='view') }}

{#- The outreach calls that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_outreach_calls_checked') }}
),

final as (
    select
        call_id,
        patient_id,
        called_at,
        channel,
        program,
        outcome
    from checked
    where failed_rule is null
)

select * from final
