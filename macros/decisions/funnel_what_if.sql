{% macro funnel_what_if_sql(uplifts, funnel) -%}
{#- Study 001's what-if: if a stage's conversion improved, how many patients would reach
    each later stage and complete the pathway? One row per scenario x stage: 'baseline'
    (the funnel as observed) and every scenario of the uplifts relation.

    One definition, two users: the mart funnel_what_if renders it over the seed
    funnel_uplift_scenarios and the var funnel_uplift, and on DuckDB the mart's post-hook
    (create_funnel_what_if_macro) renders it over the table macro's parameters, so the
    explorer's per-stage sliders run this same SQL with bound values.

    An uplift is percentage points added to a stage's conversion rate (completed /
    entered, care_journey_funnel.stage_conversion_rate), clamped to [0, 1]; stages without
    one keep their observed rate.

    Projection: patients entering the first stage are as observed; the share of a stage's
    completers who enter the next stage is kept at its observed value, so
      projected entered(k)   = entered(k) x product over earlier stages j of
                               projected rate(j) / observed rate(j)
      projected completed(k) = projected entered(k) x projected rate(k).
    A stage nobody completed passes nobody on, whatever its uplift (there is no observed
    pass-through to project with). The follow-up completion rate is completions of the
    last stage over pathway patients (care_journey_funnel.cumulative_conversion_rate of
    the last stage for the baseline). -#}
with funnel as (
    select * from {{ funnel }}
),

uplifts as (
    select * from {{ uplifts }}
),

scenarios as (
    select
        'baseline' as scenario,
        'The funnel as observed (no uplift).' as scenario_description
    union all
    select
        scenario,
        max(scenario_description) as scenario_description
    from uplifts
    group by scenario
),

scenario_stages as (
    select
        scenarios.scenario,
        scenarios.scenario_description,
        funnel.stage,
        funnel.stage_order,
        funnel.pathway_patients,
        funnel.patients_entered,
        funnel.patients_completed,
        coalesce(funnel.stage_conversion_rate, 0) as observed_conversion_rate,
        coalesce(uplifts.conversion_uplift, 0) as conversion_uplift
    from scenarios
    cross join funnel
    left join uplifts
        on
            scenarios.scenario = uplifts.scenario
            and funnel.stage = uplifts.stage
),

projected_rates as (
    select
        *,
        case
            when observed_conversion_rate + conversion_uplift > 1 then 1.0
            when observed_conversion_rate + conversion_uplift < 0 then 0.0
            else observed_conversion_rate + conversion_uplift
        end as projected_conversion_rate
    from scenario_stages
),

stage_factors as (
    select
        *,
        case
            when observed_conversion_rate > 0 then projected_conversion_rate / observed_conversion_rate
            else 1.0
        end as conversion_factor
    from projected_rates
),

cumulative_factors as (
    select
        *,
        sum(case when conversion_factor = 0 then 1 else 0 end) over (
            partition by scenario
            order by stage_order
            rows between unbounded preceding and 1 preceding
        ) as earlier_zero_factors,
        sum(case when conversion_factor > 0 then ln(conversion_factor) else 0 end) over (
            partition by scenario
            order by stage_order
            rows between unbounded preceding and 1 preceding
        ) as earlier_log_factors
    from stage_factors
),

projected as (
    select
        *,
        patients_entered * case
            when coalesce(earlier_zero_factors, 0) > 0 then 0.0
            else exp(coalesce(earlier_log_factors, 0))
        end as projected_patients_entered,
        max(stage_order) over (partition by scenario) as last_stage_order
    from cumulative_factors
),

with_completions as (
    select
        *,
        projected_patients_entered * projected_conversion_rate as projected_patients_completed
    from projected
),

follow_up as (
    select
        scenario,
        max(case when stage_order = last_stage_order then patients_completed end) as observed_pathway_completions,
        max(case when stage_order = last_stage_order then projected_patients_completed end)
            as projected_pathway_completions
    from with_completions
    group by scenario
),

final as (
    select
        with_completions.scenario,
        with_completions.scenario_description,
        with_completions.stage,
        cast(with_completions.stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(with_completions.conversion_uplift as {{ carepulse.type_double() }}) as conversion_uplift,
        cast(with_completions.pathway_patients as {{ dbt.type_bigint() }}) as pathway_patients,
        cast(with_completions.patients_entered as {{ dbt.type_bigint() }}) as observed_patients_entered,
        cast(with_completions.patients_completed as {{ dbt.type_bigint() }}) as observed_patients_completed,
        cast(with_completions.observed_conversion_rate as {{ carepulse.type_double() }})
            as observed_conversion_rate,
        cast(with_completions.projected_conversion_rate as {{ carepulse.type_double() }})
            as projected_conversion_rate,
        cast(with_completions.projected_patients_entered as {{ carepulse.type_double() }})
            as projected_patients_entered,
        cast(with_completions.projected_patients_completed as {{ carepulse.type_double() }})
            as projected_patients_completed,
        cast(
            with_completions.projected_patients_completed - with_completions.patients_completed
            as {{ carepulse.type_double() }}
        ) as additional_patients_completed,
        {{ carepulse.safe_ratio('follow_up.observed_pathway_completions', 'with_completions.pathway_patients') }}
            as observed_follow_up_completion_rate,
        {{ carepulse.safe_ratio('follow_up.projected_pathway_completions', 'with_completions.pathway_patients') }}
            as projected_follow_up_completion_rate
    from with_completions
    inner join follow_up
        on with_completions.scenario = follow_up.scenario
)

select * from final
{%- endmacro %}


{% macro create_funnel_what_if_macro(relation) -%}
    {{ return(adapter.dispatch('create_funnel_what_if_macro', 'carepulse')(relation)) }}
{%- endmacro %}

{% macro default__create_funnel_what_if_macro(relation) -%}
{#- Other engines (Spark) have no table macros: nothing (dbt skips an empty hook). -#}
{%- endmacro %}

{% macro duckdb__create_funnel_what_if_macro(relation) -%}
{#- The funnel_what_if mart's post-hook: a DuckDB table macro
    <schema>.funnel_what_if_explorer(p_stages, p_uplifts) - the mart's SQL over one
    scenario 'explorer' whose uplifts are the two lists zipped (stage i gets uplift i).
    Same reasons as duckdb__create_intervention_scenario_what_if: callable read-only with
    bound values on the published file, relations named without the catalog, parameters
    prefixed p_. -#}
create or replace macro {{ relation.schema }}.funnel_what_if_explorer(p_stages, p_uplifts) as table
{{ carepulse.funnel_what_if_sql(
    "(select
        'explorer' as scenario,
        explorer_stages.stage,
        explorer_stages.conversion_uplift,
        'Uplifts set in the explorer.' as scenario_description
    from (
        select
            unnest(cast(p_stages as varchar[])) as stage,
            unnest(cast(p_uplifts as double[])) as conversion_uplift
    ) as explorer_stages) as explorer_uplifts",
    ref('care_journey_funnel').include(database=False),
) }}
{%- endmacro %}
