{#- Staging helpers: raw columns arrive as text; these trim, type and record what failed. -#}

{#- Trimmed text, with empty strings as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Enumerations compare case- and whitespace-insensitively. -#}
{% macro clean_enum(column) -%}
    lower({{ carepulse.clean_text(column) }})
{%- endmacro %}

{#- Typed value, or null when the text does not parse (recorded by invalid_casts). -#}
{% macro cast_text(column, type) -%}
    {{ dbt.safe_cast(carepulse.clean_text(column), api.Column.translate_type(type)) }}
{%- endmacro %}

{#- Comma-separated names of the columns whose non-empty text failed to parse ('' when none).
    typed_columns: {column: type}. -#}
{% macro invalid_casts(typed_columns) -%}
    concat_ws(
        ','
        {%- for column, type in typed_columns.items() %},
        case
            when {{ carepulse.clean_text(column) }} is not null
                and {{ carepulse.cast_text(column, type) }} is null
                then '{{ column }}'
        end
        {%- endfor %}
    )
{%- endmacro %}

{#- The raw row as JSON text for the quarantine, built from the listed (non-identifier) columns. -#}
{% macro raw_record(columns) -%}
    {{ return(adapter.dispatch('raw_record', 'carepulse')(columns)) }}
{%- endmacro %}

{% macro default__raw_record(columns) -%}
    to_json(named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ", " if not loop.last }}{% endfor -%}
    ))
{%- endmacro %}

{% macro duckdb__raw_record(columns) -%}
    cast(to_json(struct_pack(
        {%- for column in columns %}{{ column }} := {{ column }}{{ ", " if not loop.last }}{% endfor -%}
    )) as varchar)
{%- endmacro %}

{#- Whole-string regular expression match, portable between DuckDB and Spark. -#}
{% macro regex_full_match(column, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'carepulse')(column, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(column, pattern) -%}
    ({{ column }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{% macro duckdb__regex_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, '{{ pattern }}')
{%- endmacro %}
