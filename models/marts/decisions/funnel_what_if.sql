{#- Study 001's what-if: if a stage's conversion improved, how many patients would reach
    each later stage and complete the pathway? One row per scenario x stage.

    Scenarios: 'baseline' (the funnel as observed), every scenario of seed
    funnel_uplift_scenarios, and 'vars' when the var funnel_uplift is set
    (`dbt build --select funnel_what_if --vars '{funnel_uplift: {screening: 0.05}}'`).
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

with funnel as (
    select * from {{ ref('care_journey_funnel') }}
),

seed_uplifts as (
    select * from {{ ref('funnel_uplift_scenarios') }}
),

var_uplifts as (
    {% for stage_name, uplift in uplift_var.items() %}
        select
            'vars' as scenario,
            {{ carepulse.quoted_literal(stage_name) }} as stage,
            cast({{ uplift }} as {{ carepulse.type_double() }}) as conversion_uplift,
            'From the funnel_uplift var.' as scenario_description
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as scenario,
            cast(null as {{ dbt.type_string() }}) as stage,
            cast(null as {{ carepulse.type_double() }}) as conversion_uplift,
            cast(null as {{ dbt.type_string() }}) as scenario_description
        where 1 = 0
    {% endfor %}
),

uplifts as (
    select
        scenario,
        stage,
        cast(conversion_uplift as {{ carepulse.type_double() }}) as conversion_uplift,
        scenario_description
    from seed_uplifts
    union all
    select
        scenario,
        stage,
        conversion_uplift,
        scenario_description
    from var_uplifts
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
