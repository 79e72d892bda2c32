{#- Columns of the model that hold nulls, with how many: one scan of the model for all its
    required columns (dbt's not_null scans once per column; on a 50M-row fact that is a
    scan per key). One row per offending column. -#}
{% test not_null_columns(model, column_names) %}
    with null_counts as (
        select
            {%- for column in column_names %}
            count(*) - count({{ column }}) as {{ column }}__nulls{{ "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    {% for column in column_names %}
        select
            '{{ column }}' as column_name,
            {{ column }}__nulls as null_rows
        from null_counts
        where {{ column }}__nulls > 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endtest %}
