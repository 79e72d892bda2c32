{#- Incremental loads (issue 13): the models that grow with every day of data rebuild only
    the dates from var lookback_days before the latest date they hold, replacing those dates
    whole, so rows arriving up to lookback_days late are picked up and a re-run is safe. -#}

{#- The config of an incremental model replacing rows by unique_key: delete+insert (DuckDB
    and other engines with it); on Spark a dynamic partition overwrite when the rebuilt rows
    are whole date partitions (partition_column), else a Delta merge on the key. -#}
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

{#- Spark: var spark_file_format is the table format, parquet by default (what pyspark's own
    jars write; Delta's jars are not on the Python package index) or delta on a cluster that
    has it. With partition_column: a dynamic overwrite of the rebuilt date partitions (any
    format). Without it the rows must be replaced by key: a merge, which needs Delta; on
    parquet the model is rebuilt in full as a table (same rows, not incremental). -#}
{% macro spark__incremental_config(unique_key, partition_column=none) -%}
    {%- set file_format = var('spark_file_format') %}
    {%- if partition_column is not none %}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'partition_by': [partition_column],
            'file_format': file_format,
            'on_schema_change': 'append_new_columns',
        }) }}
    {%- endif %}
    {%- if file_format == 'delta' %}
        {{ return({
            'materialized': 'incremental',
            'incremental_strategy': 'merge',
            'unique_key': unique_key,
            'file_format': 'delta',
            'on_schema_change': 'append_new_columns',
        }) }}
    {%- endif %}
    {{ return({'materialized': 'table', 'file_format': file_format}) }}
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
