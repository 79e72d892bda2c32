{#- dbt.safe_cast on DuckDB: try_cast returns null instead of failing the whole query. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
