{{ config(materialized='view') }}

{#- The claims that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_claims_checked') }}
),

final as (
    select
        {{- carepulse.select_columns(carepulse.checked_columns('claims'), last_comma=false) }}
    from checked
    where failed_rule is null
)

select * from final
