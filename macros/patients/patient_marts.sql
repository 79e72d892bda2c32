{#- Helpers of the patient marts (models/intermediate/patients, models/marts/patients). -#}

{#- The engagement event types, in the order of the per-type columns of
    int_patient_days_aggregated and patient_activity_monthly. Must equal the
    engagement_events.event_type domain in seed raw_value_domains (singular test
    assert_engagement_event_types_match_domain): the columns are part of a contract,
    so they cannot follow the seed by themselves. -#}
{% macro engagement_event_types() %}
    {{ return(['login', 'telemedicine_visit', 'medication_refill', 'health_tracking', 'education_content', 'message']) }}
{% endmacro %}

{#- 8-byte floating point: dbt.type_float() is a 4-byte REAL on DuckDB. -#}
{% macro type_double() %}
    {{ return(api.Column.translate_type('double')) }}
{% endmacro %}

{#- Money amounts, as revenue_usd in staging. -#}
{% macro type_money() %}
    {{ return(api.Column.numeric_type('decimal', 18, 2)) }}
{% endmacro %}

{#- Wilson score interval bound for a proportion successes / trials (95% by default).
    Preferred over the normal approximation: it stays inside [0, 1] and behaves for small
    groups and rates near 0 or 1. Null when there are no trials.
    In exact arithmetic low <= rate <= high, but in floating point an all-churned group of
    80 gets high = 0.9999999999999998 < 1 = rate; so the bound is clamped to [0, rate] or
    [rate, 1], with the rate computed exactly as safe_ratio does (issue 11, defect 2). -#}
{% macro wilson_interval_bound(successes, trials, bound, z=1.959964) -%}
    {%- set n = 'cast(' ~ trials ~ ' as ' ~ carepulse.type_double() ~ ')' -%}
    {%- set p = '(cast(' ~ successes ~ ' as ' ~ carepulse.type_double() ~ ') / ' ~ n ~ ')' -%}
    {%- set rate = carepulse.safe_ratio(successes, trials) -%}
    {%- set z2 = z * z -%}
    {%- set sign = '-' if bound == 'low' else '+' -%}
    {%- if bound not in ('low', 'high') -%}
        {%- do exceptions.raise_compiler_error("wilson_interval_bound: bound must be 'low' or 'high'") -%}
    {%- endif -%}
    cast(
        case
            when ({{ trials }}) > 0
                then {{ 'greatest(0.0, least(' ~ rate ~ ', ' if bound == 'low' else 'least(1.0, greatest(' ~ rate ~ ', ' }}(
                    {{ p }} + {{ z2 }} / (2 * {{ n }})
                    {{ sign }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z2 }} / (4 * {{ n }} * {{ n }}))
                ) / (1 + {{ z2 }} / {{ n }})))
        end as {{ carepulse.type_double() }}
    )
{%- endmacro %}

{#- Ratio as a double, null when the denominator is 0 (rates of empty groups are unknown, not 0). -#}
{% macro safe_ratio(numerator, denominator) -%}
    case
        when ({{ denominator }}) <> 0
            then cast(({{ numerator }}) as {{ carepulse.type_double() }}) / ({{ denominator }})
    end
{%- endmacro %}

{#- ISO day of week, 1 = Monday ... 7 = Sunday. -#}
{% macro iso_weekday(timestamp) -%}
    {{ return(adapter.dispatch('iso_weekday', 'carepulse')(timestamp)) }}
{%- endmacro %}

{% macro default__iso_weekday(timestamp) -%}
    extract(isodow from {{ timestamp }})
{%- endmacro %}

{% macro spark__iso_weekday(timestamp) -%}
    extract(dayofweek_iso from {{ timestamp }})
{%- endmacro %}

{#- English weekday name of an ISO weekday number (portable: no locale-dependent functions). -#}
{% macro weekday_name(iso_weekday) -%}
    case {{ iso_weekday }}
        {%- for name in ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- Median of a numeric expression (an aggregate). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'carepulse')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{#- Upper bound on the number of months any patient-month spine needs: from the earliest
    valid date (earlier rows are quarantined) to the later of today and a configured as-of
    date, plus one. Known at compile time, so no query runs while compiling. -#}
{% macro patient_month_spine_size() %}
    {%- set earliest = modules.datetime.datetime.strptime(var('earliest_valid_date'), '%Y-%m-%d').date() -%}
    {%- set latest = modules.datetime.date.today() -%}
    {%- set configured = carepulse.configured_as_of_date() -%}
    {%- if configured and configured > latest %}{% set latest = configured %}{% endif -%}
    {{ return((latest.year - earliest.year) * 12 + latest.month - earliest.month + 1) }}
{% endmacro %}
