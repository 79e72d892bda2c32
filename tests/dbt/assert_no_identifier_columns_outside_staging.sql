{#- Fails with one row per column, outside the raw views and staging, whose name is a
    direct identifier column of a raw source (meta.identifier: true). -#}
{% set identifier_columns = [] %}
{% if execute %}
    {% for node in graph.sources.values() %}
        {% for column in node.columns.values() %}
            {% if column.meta.get('identifier') %}
                {% do identifier_columns.append(column.name | lower) %}
            {% endif %}
        {% endfor %}
    {% endfor %}
{% endif %}

with warehouse_columns as (
    select
        table_schema,
        table_name,
        lower(column_name) as column_name
    from information_schema.columns
    where table_schema in ('intermediate', 'marts', 'ml', 'audit')
),

final as (
    select
        table_schema,
        table_name,
        column_name
    from warehouse_columns
    where column_name in ('{{ identifier_columns | unique | join("', '") }}')  -- noqa: LT05
)

select * from final
