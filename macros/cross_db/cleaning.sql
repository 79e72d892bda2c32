{#- Staging helpers: raw columns arrive as text; these trim, type and record what failed. -#}

{#- Trimmed text, with empty strings as null. -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Enumerations compare case- and whitespace-insensitively. -#}
{% macro clean_enum(column) -%}
    lower({{ carepulse.clean_text(column) }})
{%- endmacro %}

{#- Typed value, or null when the text does not parse (recorded by invalid_casts).
    Timestamps with a UTC offset are converted to UTC (timestamp_as_utc). A date is
    YYYY-MM-DD, optionally with a time of day that is dropped; a time zone or offset makes
    it unparseable, since DuckDB's cast would drop it and could move the day. -#}
{% macro cast_text(column, type) -%}
    {%- if type == 'timestamp' -%}
        {{ carepulse.timestamp_as_utc(carepulse.clean_text(column)) }}
    {%- elif type == 'date' -%}
        case
            when {{ carepulse.regex_full_match(
                carepulse.clean_text(column),
                '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?'
            ) }}
                then {{ dbt.safe_cast(carepulse.clean_text(column), api.Column.translate_type(type)) }}
        end
    {%- else -%}
        {{ dbt.safe_cast(carepulse.clean_text(column), api.Column.translate_type(type)) }}
    {%- endif -%}
{%- endmacro %}

{#- A timestamp text as a UTC timestamp without time zone, or null when it does not parse.
    '2025-03-01T10:00:00+05:00' is 05:00 UTC and '...Z' is UTC; text without an offset is
    taken as UTC already. Why not a plain cast: DuckDB's cast to timestamp accepts an offset
    and drops it, silently moving the instant (issue 11, defect 5). -#}
{% macro timestamp_as_utc(text) -%}
    {{ return(adapter.dispatch('timestamp_as_utc', 'carepulse')(text)) }}
{%- endmacro %}

{#- Spark: a cast honours the offset and converts to the session time zone, which must be UTC
    (spark.sql.session.timeZone = UTC); text without an offset is read in that zone. -#}
{% macro default__timestamp_as_utc(text) -%}
    {{ dbt.safe_cast(text, api.Column.translate_type('timestamp')) }}
{%- endmacro %}

{#- DuckDB: only text that ends in an offset goes through timestamptz (which would read text
    without one in the session's time zone), then back to a naive UTC timestamp. An offset
    outside -14:00..+14:00 (DuckDB would accept +99:00) or a zone name instead of an offset
    makes the value unparseable. -#}
{% macro duckdb__timestamp_as_utc(text) -%}
    {%- set clock = '.*[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?' -%}
    case
        when {{ carepulse.regex_full_match(text, clock ~ '([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)') }}
            then case
                when {{ carepulse.regex_full_match(text, clock ~ '([zZ]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)') }}
                    then timezone('UTC', try_cast({{ text }} as timestamptz))
            end
        when {{ carepulse.regex_full_match(text, '.*[0-9]') }}
            then try_cast({{ text }} as timestamp)
    end
{%- endmacro %}

{#- The raw view's malformed-line marker (JSON text, null for a parsed row). Only DuckDB's raw
    file registration produces malformed lines; elsewhere the sources are tables already. -#}
{% macro raw_malformed() -%}
    {{ return(adapter.dispatch('raw_malformed', 'carepulse')()) }}
{%- endmacro %}

{% macro default__raw_malformed() -%}
    cast(null as {{ api.Column.translate_type('string') }})
{%- endmacro %}

{% macro duckdb__raw_malformed() -%}
    raw_malformed
{%- endmacro %}

{#- The raw row's file, below the raw folder (claims.csv, claims/2025-01-02.csv): DuckDB's and
    Spark's raw views carry it (the reader's filename column; on Spark one literal per file's
    table); elsewhere unknown (null). -#}
{% macro raw_source_file() -%}
    {{ return(adapter.dispatch('raw_source_file', 'carepulse')()) }}
{%- endmacro %}

{% macro default__raw_source_file() -%}
    cast(null as {{ api.Column.translate_type('string') }})
{%- endmacro %}

{% macro spark__raw_source_file() -%}
    source_file
{%- endmacro %}

{% macro duckdb__raw_source_file() -%}
    source_file
{%- endmacro %}

{#- True when any of the given text columns is longer than var max_key_length: keys and
    references are identifiers of rows, and a 10,000-character one is not (issue 11, defect 6). -#}
{% macro longer_than_key_limit(columns) -%}
    (
        {%- for column in columns %}
        coalesce({{ dbt.length(column) }}, 0) > {{ var('max_key_length') | int }}{{ ' or' if not loop.last }}
        {%- endfor %}
    )
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

{#- The raw row as JSON text for the quarantine, built from the listed (non-identifier) columns;
    for a line that could not be parsed, its file, line number and problem instead. -#}
{% macro raw_record(columns) -%}
    coalesce({{ carepulse.raw_malformed() }}, {{ adapter.dispatch('raw_record', 'carepulse')(columns) }})
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

{#- Spark reads backslashes in a string literal as escapes ('\.' is '.'), so the pattern's
    backslashes are doubled to reach the regex engine as written. -#}
{% macro spark__regex_full_match(column, pattern) -%}
    ({{ column }} rlike '^(?:{{ pattern | replace('\\', '\\\\') }})$')
{%- endmacro %}

{% macro duckdb__regex_full_match(column, pattern) -%}
    regexp_full_match({{ column }}, '{{ pattern }}')
{%- endmacro %}
