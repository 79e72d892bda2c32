{#- Incremental loads (issue 13): the models that grow with every day of data rebuild only
    the dates from var lookback_days before the latest date they hold, replacing those dates
    whole, so rows arriving up to lookback_days late are picked up and a re-run is safe. -#}

{#- The config of an incremental model replacing rows by unique_key: delete+insert (DuckDB
    and other engines with it); on Spark a Delta merge on a unique key, or a dynamic
    partition overwrite when the key is the date partition (partition_column). -#}
{% macro incremental_config(unique_key, partition_column=none) -%}
    {{ return(adapter.dispatch('incremental_config', 'carepulse')(unique_key, partition_column)) }}
{%- endmacro %}

{% macro default__incremental_config(unique_key, partition_column=none) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'append_new_columns',
    }) }}
{%- endmacro %}

{% macro spark__incremental_config(unique_key, partition_column=none) -%}
    {%- if partition_column is not none %}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'partition_by': [partition_column],
            'file_format': 'delta',
            'on_schema_change': 'append_new_columns',
        }) }}
    {%- endif %}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'merge',
        'unique_key': unique_key,
        'file_format': 'delta',
        'on_schema_change': 'append_new_columns',
    }) }}
{%- endmacro %}

{#- The var lookback_days, checked: a whole number of days >= 0. -#}
{% macro lookback_days() -%}
    {%- set value = var('lookback_days') %}
    {%- if value is not integer or value is boolean or value < 0 %}
        {{ exceptions.raise_compiler_error("var lookback_days must be a whole number of days >= 0, got " ~ value) }}
    {%- endif %}
    {{- return(value) }}
{%- endmacro %}

{#- First date an incremental run rebuilds: lookback_days before the latest value of
    loaded_column in the model's table, truncated to grain (month for monthly tables, so
    whole months are rebuilt); the earliest valid date when the table is empty. A
    subquery, for `where <date> >= {{ incremental_start(...) }}` inside is_incremental(). -#}
{% macro incremental_start(loaded_column, grain='day') -%}
    {%- set back = dbt.dateadd('day', -1 * carepulse.lookback_days(), 'max(' ~ loaded_column ~ ')') %}
    (
        select
            coalesce(
                cast({{ dbt.date_trunc(grain, back) }} as date),
                cast({{ carepulse.quoted_literal(var('earliest_valid_date')) }} as date)
            )
        from {{ this }}
    )
{%- endmacro %}
