{#- Every row that failed a rule, from all raw tables: what, why, and the raw record
    (direct identifiers are never part of it; staging drops them first). -#}
{%- set checked_tables = carepulse.raw_tables() | map(attribute=1) | list -%}
with

{% for table in checked_tables %}
    {{ table }}_failed as (
        select
            '{{ table }}' as source_table,
            record_key,
            source_file,
            failed_rule,
            raw_record
        from {{ ref('audit_' ~ table ~ '_checked') }}
        where failed_rule is not null
    ),

{% endfor %}

rules as (
    select * from {{ ref('quarantine_rules') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

failed as (
    {% for table in checked_tables %}
        select * from {{ table }}_failed
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        failed.source_table,
        failed.record_key,
        failed.source_file,
        failed.failed_rule as rule,
        rules.description as rule_description,
        failed.raw_record,
        analysis_date.as_of_date
    from failed
    left join rules
        on failed.failed_rule = rules.rule
    cross join analysis_date
)

select * from final
