{#- Vocabulary of the provider segmentation rules seed (seeds/providers/provider_segment_rules.csv).
    The model, its unpivot and the seed's validation tests all read these lists, so the
    SQL and the checks cannot drift apart. -#}

{#- Numeric columns of provider_performance a rule may test. Dates are left out on
    purpose: recency_days is the comparable form of last_claim_date. -#}
{% macro provider_segment_measures() %}
    {{ return([
        'claim_count', 'distinct_patients', 'total_revenue', 'avg_claim_amount',
        'recency_days', 'active_months', 'revenue_last_90d', 'revenue_prior_90d',
        'revenue_growth',
    ]) }}
{% endmacro %}

{% macro provider_segment_operators() %}
    {{ return(['>', '>=', '<', '<=', '=', '<>']) }}
{% endmacro %}

{% macro provider_segment_threshold_kinds() %}
    {{ return(['absolute', 'percentile']) }}
{% endmacro %}

{#- True when `value operator threshold` holds; null when the value or threshold is null
    (callers treat null as "does not hold"). The operator is data, not SQL text, so it is
    matched against the known list instead of being spliced into the query. -#}
{% macro segment_condition_holds(value, operator, threshold) -%}
    case {{ operator }}
        {%- for op in carepulse.provider_segment_operators() %}
        when '{{ op }}' then {{ value }} {{ op }} {{ threshold }}
        {%- endfor %}
    end
{%- endmacro %}

{#- Readable text for a number: up to four decimals, trailing zeros dropped
    (19700.0000 -> 19700, 0.2500 -> 0.25). `[.]` avoids backslash escapes that differ
    between DuckDB and Spark string literals. -#}
{% macro number_text(expression) -%}
    regexp_replace(
        cast(cast({{ expression }} as decimal(18, 4)) as {{ dbt.type_string() }}),
        '[.]?0+$',
        ''
    )
{%- endmacro %}

{#- Values of a text column joined in sorted order (deterministic rule text).
    dbt.listagg ignores the order on Spark, so Spark sorts the collected list instead. -#}
{% macro sorted_string_agg(column, delimiter_text) -%}
    {{ return(adapter.dispatch('sorted_string_agg', 'carepulse')(column, delimiter_text)) }}
{%- endmacro %}

{% macro default__sorted_string_agg(column, delimiter_text) -%}
    {{ dbt.listagg(column, delimiter_text, 'order by ' ~ column) }}
{%- endmacro %}

{% macro spark__sorted_string_agg(column, delimiter_text) -%}
    array_join(array_sort(collect_list({{ column }})), {{ delimiter_text }})
{%- endmacro %}
