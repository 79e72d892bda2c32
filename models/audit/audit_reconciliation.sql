{#- Per raw table: rows read from the file = rows accepted + rows quarantined. -#}
{%- set sources = carepulse.raw_tables() -%}
with

{% for source_name, table in sources %}
    {{ table }}_read as (
        select
            '{{ table }}' as source_table,
            count(*) as rows_read
        from {{ source(source_name, table) }}
    ),

    {{ table }}_outcome as (
        select
            '{{ table }}' as source_table,
            cast(sum(case when failed_rule is null then 1 else 0 end) as bigint) as rows_accepted,
            cast(sum(case when failed_rule is not null then 1 else 0 end) as bigint) as rows_quarantined
        from {{ ref('audit_' ~ table ~ '_checked') }}
    ),

{% endfor %}

rows_read as (
    {% for source_name, table in sources %}
        select * from {{ table }}_read
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

outcomes as (
    {% for source_name, table in sources %}
        select * from {{ table }}_outcome
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        rows_read.source_table,
        rows_read.rows_read,
        coalesce(outcomes.rows_accepted, 0) as rows_accepted,
        coalesce(outcomes.rows_quarantined, 0) as rows_quarantined,
        case
            when rows_read.rows_read = 0 then 0.0
            else 1.0 * coalesce(outcomes.rows_quarantined, 0) / rows_read.rows_read
        end as quarantine_share
    from rows_read
    left join outcomes
        on rows_read.source_table = outcomes.source_table
)

select * from final
