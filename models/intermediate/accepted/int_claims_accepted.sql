{{ config(materialized='view') }}

{#- The claims that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_claims_checked') }}
),

final as (
    select
        claim_id,
        patient_id,
        provider_id,
        claim_start_date,
        claim_end_date,
        paid_amount,
        deductible_amount,
        diagnosis_code,
        procedure_code
    from checked
    where failed_rule is null
)

select * from final
