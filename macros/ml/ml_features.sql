{#- Helpers of the ML feature marts (models/marts/ml, models/intermediate/ml). -#}

{#- The per-event-type count columns (<event_type>_events) of int_patient_days_aggregated
    and int_patient_periods_aggregated, one per carepulse.engagement_event_types(). -#}
{% macro engagement_event_type_columns() %}
    {%- set columns = [] -%}
    {%- for event_type in carepulse.engagement_event_types() -%}
        {%- do columns.append(event_type ~ '_events') -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}

{#- The churn model's running-sum features, from var ml_churn_feature_windows: one entry
    per feature with its name (<measure>_<days>d or <measure>_total), the
    int_patient_periods_aggregated column it sums, the window frame over the patient's
    periods (newest first) and whether it is an amount (a double) or a count (a bigint).
    A window must be a whole number of ml_period_days periods, so every feature is exact
    to the day; anything else stops the compile with a message naming the var. -#}
{% macro ml_churn_window_features() %}
    {%- set period_days = var('ml_period_days') | int -%}
    {%- set features = [] -%}
    {%- for measure, spec in var('ml_churn_feature_windows').items() -%}
        {%- set columns = carepulse.engagement_event_type_columns() if measure == 'event_types' else [measure] -%}
        {%- for column in columns -%}
            {%- for days in spec.get('windows', []) -%}
                {%- if days % period_days != 0 or days < period_days -%}
                    {%- do exceptions.raise_compiler_error(
                        "var ml_churn_feature_windows: window " ~ days ~ " of " ~ measure
                        ~ " is not a whole number of ml_period_days (" ~ period_days ~ ")") -%}
                {%- endif -%}
                {%- do features.append({
                    'name': column ~ '_' ~ days ~ 'd',
                    'column': column,
                    'frame': (days // period_days - 1) ~ ' preceding',
                    'is_amount': spec.get('amount', false),
                }) -%}
            {%- endfor -%}
            {%- if spec.get('total', false) -%}
                {%- do features.append({
                    'name': column ~ '_total',
                    'column': column,
                    'frame': 'unbounded preceding',
                    'is_amount': spec.get('amount', false),
                }) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(features) }}
{% endmacro %}

{#- Days from a date to the next weekday (Monday to Friday): 1, or 3 from a Friday and 2
    from a Saturday. ISO weekday numbering as carepulse.iso_weekday (1 = Monday). -#}
{% macro days_to_next_weekday(date_expression) -%}
    case
        when {{ carepulse.iso_weekday(date_expression) }} >= 5
            then 8 - {{ carepulse.iso_weekday(date_expression) }}
        else 1
    end
{%- endmacro %}

{#- The period grid of the ML step: period_index 0, 1, ... and its offset in days from the
    as-of date (-ml_period_days x period_index). feature_cutoffs and
    int_patient_periods_aggregated must number periods identically (a cutoff's features
    are the sums over the periods of its index and older), so both take it from here. -#}
{% macro ml_period_offsets() -%}
    select
        period_numbers.generated_number - 1 as period_index,
        -{{ var('ml_period_days') }} * (period_numbers.generated_number - 1) as days_offset
    from ({{ dbt.generate_series(1000) }}) as period_numbers
{%- endmacro %}
