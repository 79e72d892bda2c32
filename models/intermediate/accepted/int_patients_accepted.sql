{{ config(materialized='view') }}

{#- The patients that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_patients_checked') }}
),

final as (
    select
        patient_id,
        birth_year,
        sex,
        zip3,
        location_type,
        primary_condition,
        referral_source,
        plan_type,
        enrolled_at
    from checked
    where failed_rule is null
)

select * from final
