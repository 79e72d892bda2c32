{#- The raw contract tables as (source name, table name), in the order audit models list them.
    One list, so the quarantine and the reconciliation can never cover different tables. -#}
{% macro raw_tables() %}
    {{ return([
        ('platform', 'patients'), ('platform', 'engagement_events'),
        ('platform', 'care_journey_stages'), ('platform', 'outreach_calls'),
        ('claims', 'providers'), ('claims', 'claims'),
    ]) }}
{% endmacro %}
