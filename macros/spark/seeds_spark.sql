{#- Spark seeds with inline literals instead of bindings.

    Why: dbt-spark's session method formats bindings with Python's `%`, so an empty CSV cell
    (None) arrives as the text 'None' instead of null, and a seed such as
    provider_segment_rules would hold the measure 'None'. Literals rendered here keep null as
    null and quote text with the engine's own escaping. Same batching and casts as upstream. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set batch_size = get_batch_size() %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set types = [] %}
    {% for col_name in agate_table.column_names %}
        {% do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(batch_size) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    cast({{ carepulse.spark_seed_literal(value) }} as {{ types[loop.index0] }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{#- One seed value as a Spark SQL literal: null, a number, or quoted text. -#}
{% macro spark_seed_literal(value) %}
    {% if value is none %}
        {{ return('null') }}
    {% elif value is number and value is not boolean %}
        {{ return(value | string) }}
    {% else %}
        {{ return(carepulse.quoted_literal(value)) }}
    {% endif %}
{% endmacro %}
