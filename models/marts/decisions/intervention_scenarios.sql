{{ config(
    tags=['post_ml'],
    post_hook="{{ carepulse.create_intervention_scenario_what_if(this) }}",
) }}

{#- Retention scenarios, one row per scenario of seed intervention_scenario_assumptions.
    The SQL (and its definitions) is macro intervention_scenarios_sql, shared with the
    DuckDB table macro marts.intervention_scenario_what_if the post-hook creates, which
    the explorer's sliders call: one definition for the mart and the app. -#}
{{ carepulse.intervention_scenarios_sql(
    ref('intervention_scenario_assumptions'),
    ref('outreach_priority'),
    ref('patient_value'),
) }}
