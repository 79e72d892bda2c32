{#- The raw contract tables as (source name, table name), in the order audit models list them.
    One list, so the quarantine and the reconciliation can never cover different tables. -#}
{% macro raw_tables() %}
    {{ return([
        ('platform', 'patients'), ('platform', 'engagement_events'),
        ('platform', 'care_journey_stages'), ('platform', 'outreach_calls'),
        ('claims', 'providers'), ('claims', 'claims'),
    ]) }}
{% endmacro %}

{#- The typed columns of one raw table that pass the quarantine gate, in order: what
    audit.audit_<table>_checked keeps next to its verdict and what
    intermediate.int_<table>_accepted exposes. One list, so adding a column to a table is
    one edit here (plus its staging expression and docs). -#}
{% macro checked_columns(table) %}
    {% set columns = {
        'patients': [
            'patient_id', 'birth_year', 'sex', 'zip3', 'location_type',
            'primary_condition', 'referral_source', 'plan_type', 'enrolled_at',
        ],
        'engagement_events': ['event_id', 'patient_id', 'event_at', 'event_type', 'revenue_usd'],
        'care_journey_stages': ['patient_id', 'stage', 'entered_at', 'completed_at'],
        'outreach_calls': ['call_id', 'patient_id', 'called_at', 'channel', 'program', 'outcome'],
        'providers': ['provider_id', 'provider_name', 'specialty', 'state', 'city'],
        'claims': [
            'claim_id', 'patient_id', 'provider_id', 'claim_start_date', 'claim_end_date',
            'paid_amount', 'deductible_amount', 'diagnosis_code', 'procedure_code',
        ],
    } %}
    {% if table not in columns %}
        {% do exceptions.raise_compiler_error("checked_columns: unknown raw table '" ~ table ~ "'") %}
    {% endif %}
    {{ return(columns[table]) }}
{% endmacro %}

{#- The column list of a select, one per line with trailing commas (the last one too unless
    last_comma is false), optionally prefixed (e.g. 'ranked.'). -#}
{% macro select_columns(columns, prefix='', last_comma=true) -%}
    {%- for column in columns %}
        {{ prefix }}{{ column }}{{ ',' if last_comma or not loop.last }}
    {%- endfor %}
{%- endmacro %}
