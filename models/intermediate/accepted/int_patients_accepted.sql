{{ config(materialized='view') }}

{#- The patients that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_patients_checked') }}
),

final as (
    select
        {{- carepulse.select_columns(carepulse.checked_columns('patients'), last_comma=false) }}
    from checked
    where failed_rule is null
)

select * from final
