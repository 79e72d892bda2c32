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
    periods (oldest first), its days (none for a total) and whether it is an amount (a
    double) or a count (a bigint).
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
                    'days': days,
                    'is_amount': spec.get('amount', false),
                }) -%}
            {%- endfor -%}
            {%- if spec.get('total', false) -%}
                {%- do features.append({
                    'name': column ~ '_total',
                    'column': column,
                    'frame': 'unbounded preceding',
                    'days': none,
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

{#- The calendar period grid of the ML step. Period p is the ml_period_days (30) days ending
    on var ml_cutoff_anchor_date + 30 p (inclusive); its end is a training cutoff of
    feature_cutoffs. The grid is fixed in the calendar: a new day of data does not move it,
    so the features and labels of past cutoffs stay the same rows (issue 13.3). -#}
{% macro ml_cutoff_anchor_date() -%}
    cast({{ carepulse.quoted_literal(var('ml_cutoff_anchor_date')) }} as date)
{%- endmacro %}

{#- The period index of a date (SQL expression): the period that holds it. -#}
{% macro ml_period_index(date_expression) -%}
    cast(ceil(
        {{ dbt.datediff(carepulse.ml_cutoff_anchor_date(), date_expression, 'day') }}
        / {{ var('ml_period_days') }}.0
    ) as {{ dbt.type_int() }})
{%- endmacro %}

{#- The last day of period period_index (SQL expression). -#}
{% macro ml_period_end_date(period_index_expression) -%}
    cast({{ dbt.dateadd(
        'day',
        var('ml_period_days') ~ ' * (' ~ period_index_expression ~ ')',
        carepulse.ml_cutoff_anchor_date(),
    ) }} as date)
{%- endmacro %}

{#- Periods back from the as-of date's period: periods_back 0, 1, ... 999 (82 years), for
    the dense grids of feature_cutoffs and int_patient_periods_aggregated
    (period_index = the as-of date's period - periods_back). -#}
{% macro ml_period_offsets() -%}
    select period_numbers.generated_number - 1 as periods_back
    from ({{ dbt.generate_series(1000) }}) as period_numbers
{%- endmacro %}

{#- The patient activity the ML period aggregates sum, by patient and bucket (a SQL template
    of the activity date `@date`: the period index for int_patient_periods_aggregated, the
    date itself for the scoring cutoff's windows in patient_features_by_cutoff), one row per
    source and bucket, dated on or before `until` (the as-of date) and after `since` (none:
    all history). Columns are those of int_patient_periods_aggregated: events, active_days,
    <event_type>_events, revenue, first_event_date, last_event_date, calls, engaged_calls,
    last_call_date, claims and paid_amount (claims that ended: a claim is known once it has
    ended), last_claim_date, stages_entered, furthest_stage_entered,
    last_stage_entered_date, stages_completed; null on rows of other sources. Callers
    combine the rows of one bucket with sum (counts, amounts), min (first_event_date) or
    max (the other dates, furthest_stage_entered): one definition of every measure. -#}
{% macro ml_patient_activity(bucket, until, since=none) -%}
    {%- set event_type_columns = carepulse.engagement_event_type_columns() -%}
    {%- set measures = [
        ('events', dbt.type_bigint()),
        ('active_days', dbt.type_bigint()),
    ] -%}
    {%- for column in event_type_columns -%}
        {%- do measures.append((column, dbt.type_bigint())) -%}
    {%- endfor -%}
    {%- do measures.extend([
        ('revenue', carepulse.type_money()),
        ('first_event_date', 'date'),
        ('last_event_date', 'date'),
        ('calls', dbt.type_bigint()),
        ('engaged_calls', dbt.type_bigint()),
        ('last_call_date', 'date'),
        ('claims', dbt.type_bigint()),
        ('paid_amount', carepulse.type_money()),
        ('last_claim_date', 'date'),
        ('stages_entered', dbt.type_bigint()),
        ('furthest_stage_entered', dbt.type_int()),
        ('last_stage_entered_date', 'date'),
        ('stages_completed', dbt.type_bigint()),
    ]) -%}
    {%- set event_values = {
        'events': 'sum(events)',
        'active_days': 'count(*)',
        'revenue': 'sum(revenue_usd)',
        'first_event_date': 'min(activity_date)',
        'last_event_date': 'max(activity_date)',
    } -%}
    {%- for column in event_type_columns -%}
        {%- do event_values.update({column: 'sum(' ~ column ~ ')'}) -%}
    {%- endfor -%}
    {%- set branches = [
        (ref('int_patient_days_aggregated'), 'activity_date', none, event_values),
        (ref('int_outreach_calls_classified'), 'cast(called_at as date)', none, {
            'calls': 'count(*)',
            'engaged_calls': 'sum(case when is_engaged then 1 else 0 end)',
            'last_call_date': 'max(cast(called_at as date))',
        }),
        (ref('int_claims_accepted'), 'claim_end_date', none, {
            'claims': 'count(*)',
            'paid_amount': 'sum(paid_amount)',
            'last_claim_date': 'max(claim_end_date)',
        }),
        (ref('int_care_journey_stages_ordered'), 'entered_date', none, {
            'stages_entered': 'count(*)',
            'furthest_stage_entered': 'max(stage_order)',
            'last_stage_entered_date': 'max(entered_date)',
        }),
        (ref('int_care_journey_stages_ordered'), 'completed_date', 'is_completed', {
            'stages_completed': 'count(*)',
        }),
    ] -%}
    {%- for relation, date_column, condition, values in branches %}
        {%- if not loop.first %}
    union all
        {%- endif %}
    select
        patient_id,
        {{ bucket | replace('@date', date_column) }} as bucket,
        {%- for name, data_type in measures %}
            cast({{ values.get(name, 'null') }} as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    where
        {{ date_column }} <= {{ until }}
        {%- if since is not none %}
            and {{ date_column }} > {{ since }}
        {%- endif %}
        {%- if condition %}
            and {{ condition }}
        {%- endif %}
    group by patient_id, {{ bucket | replace('@date', date_column) }}
    {%- endfor %}
{%- endmacro %}
