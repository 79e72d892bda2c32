{{ config(post_hook="{{ carepulse.create_funnel_what_if_macro(this) }}") }}

{#- Study 001's what-if, one row per scenario x stage: 'baseline', every scenario of seed
    funnel_uplift_scenarios, and 'vars' when the var funnel_uplift is set
    (`dbt build --select funnel_what_if --vars '{funnel_uplift: {screening: 0.05}}'`).
    The projection (and its definitions) is macro funnel_what_if_sql, shared with the
    DuckDB table macro marts.funnel_what_if_explorer the post-hook creates, which the
    explorer's per-stage sliders call: one definition for the mart and the app. -#}
-- depends_on: {{ ref('care_journey_stage_order') }}
{%- set uplift_var = var('funnel_uplift') %}
{%- if uplift_var is not mapping %}
    {%- do exceptions.raise_compiler_error(
        "var funnel_uplift must map stage names to uplifts in percentage points, e.g. {screening: 0.05}; got " ~ uplift_var
    ) %}
{%- endif %}
{%- for stage_name, uplift in uplift_var.items() %}
    {%- if uplift is not number or uplift is sameas true or uplift is sameas false or uplift < -1 or uplift > 1 %}
        {%- do exceptions.raise_compiler_error(
            "var funnel_uplift: the uplift of stage '" ~ stage_name ~ "' must be a number from -1 to 1 (0.05 = +5 points); got " ~ uplift
        ) %}
    {%- endif %}
{%- endfor %}
{%- if execute and uplift_var %}
    {%- set known = run_query('select stage from ' ~ ref('care_journey_stage_order')).columns[0].values() %}
    {%- for stage_name in uplift_var %}
        {%- if stage_name not in known %}
            {%- do exceptions.raise_compiler_error(
                "var funnel_uplift: unknown stage '" ~ stage_name ~ "' (stages: " ~ known | join(', ') ~ ")"
            ) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

{% set uplifts -%}
(
    select
        scenario,
        stage,
        cast(conversion_uplift as {{ carepulse.type_double() }}) as conversion_uplift,
        scenario_description
    from {{ ref('funnel_uplift_scenarios') }}
    {%- for stage_name, uplift in uplift_var.items() %}
        union all
        select
            'vars' as scenario,
            {{ carepulse.quoted_literal(stage_name) }} as stage,
            cast({{ uplift }} as {{ carepulse.type_double() }}) as conversion_uplift,
            'From the funnel_uplift var.' as scenario_description
    {%- endfor %}
) as uplifts
{%- endset %}

{{ carepulse.funnel_what_if_sql(uplifts, ref('care_journey_funnel')) }}
