{{ config(materialized='view') }}

{#- The outreach calls that passed every quarantine rule: what the marts build on. -#}
with checked as (
    select * from {{ ref('audit_outreach_calls_checked') }}
),

final as (
    select
        {{- carepulse.select_columns(carepulse.checked_columns('outreach_calls'), last_comma=false) }}
    from checked
    where failed_rule is null
)

select * from final
