{#- Quarantine rule helpers shared by the audit.*_checked models. -#}

{#- The first rule (in the given priority order) whose condition holds, else null.
    rules: list of (rule_name, sql_condition). -#}
{% macro first_failed_rule(rules) -%}
    case
        {%- for rule, condition in rules %}
        when {{ condition }} then '{{ rule }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- True when an enumerated column's value is outside its domain in seed raw_value_domains. -#}
{% macro not_in_domain(column, source_table) -%}
    coalesce({{ column }}, '') not in (
        select allowed_value from {{ ref('raw_value_domains') }}
        where source_table = '{{ source_table }}' and column_name = '{{ column }}'
    )
{%- endmacro %}

{#- Rank rows sharing a key, valid rows first, so the first deterministic valid row is kept.
    Ordered by the typed columns: equal keys with equal content keep identical data whichever wins;
    then by source_file, so the audit names the same file on every build. -#}
{% macro key_rank(key_columns, order_columns) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}, row_rule is null
        order by {{ order_columns | join(', ') }}, source_file
    )
{%- endmacro %}

{#- The rows of relation (a CTE with row_rule, null when the row passes every row rule) with
    key_rank: among the valid rows sharing a key, carepulse.key_rank's order (1 = kept); 1 for
    every other row (an invalid row's own rule comes first, so its rank is never read).
    The same ranks as key_rank over the whole relation, whose window sorts every row of the
    largest tables (5 million events at scale 1) when only the few keys that valid rows repeat
    need an order. Dispatched: DuckDB computes the relation once for its three reads (a
    materialized CTE); engines that inline CTEs keep the one window. -#}
{% macro rows_with_key_rank(relation, key_columns, order_columns) -%}
    {{ return(adapter.dispatch('rows_with_key_rank', 'carepulse')(relation, key_columns, order_columns)) }}
{%- endmacro %}

{% macro default__rows_with_key_rank(relation, key_columns, order_columns) -%}
    select
        *,
        {{ carepulse.key_rank(key_columns, order_columns) }} as key_rank
    from {{ relation }}
{%- endmacro %}

{% macro duckdb__rows_with_key_rank(relation, key_columns, order_columns) -%}
    {%- set key_match = [] -%}
    {%- for column in key_columns -%}
        {%- do key_match.append(relation ~ '.' ~ column ~ ' = repeated_keys.' ~ column) -%}
    {%- endfor -%}
    with repeated_keys as (
        select {{ key_columns | join(', ') }}
        from {{ relation }}
        where row_rule is null
        group by {{ key_columns | join(', ') }}
        having count(*) > 1
    )

    select
        {{ relation }}.*,
        1 as key_rank
    from {{ relation }}
    left join repeated_keys
        on {{ key_match | join(' and ') }}
    where {{ relation }}.row_rule is not null or repeated_keys.{{ key_columns[0] }} is null
    union all
    select
        *,
        {{ carepulse.key_rank(key_columns, order_columns) }} as key_rank
    from (
        select {{ relation }}.*
        from {{ relation }}
        inner join repeated_keys
            on {{ key_match | join(' and ') }}
        where {{ relation }}.row_rule is null
    ) as repeated_rows
{%- endmacro %}

{#- NPI check: 10 digits and a Luhn check digit over '80840' + the first nine digits
    (the CMS rule; 24 is the Luhn contribution of the 80840 prefix). -#}
{% macro is_valid_npi(column) -%}
    (
        {{ carepulse.regex_full_match(column, '[0-9]{10}') }}
        and (
            10 - (
                24
                {%- for position in range(1, 10) %}
                {%- set digit = dbt.safe_cast('substring(' ~ column ~ ', ' ~ position ~ ', 1)', api.Column.translate_type('integer')) %}
                {%- if position % 2 == 1 %}
                + case when {{ digit }} * 2 > 9 then {{ digit }} * 2 - 9 else {{ digit }} * 2 end
                {%- else %}
                + {{ digit }}
                {%- endif %}
                {%- endfor %}
            ) % 10
        ) % 10 = {{ dbt.safe_cast('substring(' ~ column ~ ', 10, 1)', api.Column.translate_type('integer')) }}
    )
{%- endmacro %}

{#- The configured analysis date (CAREPULSE_AS_OF, var as_of_date) as a date, or none when
    unset. Checked here, before any SQL is written, so a bad value is one clear message
    naming the variable, and only a re-formatted date (never the raw text) reaches SQL
    (issue 11, defect 3). -#}
{% macro configured_as_of_date() %}
    {% set configured = var('as_of_date') | string | trim %}
    {% if not configured or configured == 'None' %}{{ return(none) }}{% endif %}
    {% if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', configured) %}
        {% do exceptions.raise_compiler_error(
            "CAREPULSE_AS_OF (dbt var as_of_date) must be an ISO date YYYY-MM-DD; got '"
            ~ configured[:40] ~ "'."
        ) %}
    {% endif %}
    {% set parts = configured.split('-') | map('int') | list %}
    {% set month_ok = parts[0] >= 1 and 1 <= parts[1] <= 12 %}
    {% if month_ok %}
        {#- the last day of that month: the day before the first of the next one -#}
        {% set next_month = modules.datetime.date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1) %}
        {% set last_day = (next_month - modules.datetime.timedelta(days=1)).day %}
    {% endif %}
    {% if not month_ok or parts[2] < 1 or parts[2] > last_day %}
        {% do exceptions.raise_compiler_error(
            "CAREPULSE_AS_OF (dbt var as_of_date) is not a calendar date: '" ~ configured ~ "'."
        ) %}
    {% endif %}
    {{ return(modules.datetime.date(parts[0], parts[1], parts[2])) }}
{% endmacro %}
