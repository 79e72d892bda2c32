{#- Per raw table: rows read, accepted and quarantined, as a contracted mart. The report
    and BI tools read this instead of schema audit, whose tables change with the
    validation rules; the detail of every quarantined row stays in audit.audit_quarantine. -#}
with reconciliation as (
    select * from {{ ref('audit_reconciliation') }}
),

final as (
    select
        source_table,
        cast(rows_read as {{ dbt.type_bigint() }}) as rows_read,
        cast(rows_accepted as {{ dbt.type_bigint() }}) as rows_accepted,
        cast(rows_quarantined as {{ dbt.type_bigint() }}) as rows_quarantined,
        cast(quarantine_share as {{ carepulse.type_double() }}) as quarantine_share
    from reconciliation
)

select * from final
