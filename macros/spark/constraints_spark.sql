{#- Contracted marts declare not_null constraints. Spark enforces them only on Delta tables
    (ALTER COLUMN ... SET NOT NULL); local Spark writes parquet, which cannot carry them, so
    here they are left to the not_null data tests every such column also has (the contract's
    column names and types are still checked by dbt before the table is built). -#}
{% macro spark__alter_column_set_constraints(relation, column_dict) %}
    {% if config.get('file_format', 'parquet') == 'delta' %}
        {{ return(spark__alter_column_set_constraints_upstream(relation, column_dict)) }}
    {% endif %}
{% endmacro %}

{#- dbt-spark's own behaviour, for Delta tables on a cluster. -#}
{% macro spark__alter_column_set_constraints_upstream(relation, column_dict) %}
    {% for column_name in column_dict %}
        {% for constraint in column_dict[column_name]['constraints'] if constraint.type == 'not_null' %}
            {% set quoted_name = adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name %}
            {% call statement() %}
                alter table {{ relation }} change column {{ quoted_name }} set not null {{ constraint.expression or "" }}
            {% endcall %}
        {% endfor %}
    {% endfor %}
{% endmacro %}
