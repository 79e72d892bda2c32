{% macro intervention_scenarios_sql(assumptions, worklist, patient_value) -%}
{#- Retention scenarios (study 000's kind of projection), one row per scenario of the
    assumptions relation (columns of seed intervention_scenario_assumptions), from the
    latest churn and engagement predictions (outreach_priority).

    One definition, two users: the mart intervention_scenarios renders it over the seed,
    and on DuckDB the mart's post-hook (create_intervention_scenario_what_if) renders it
    over the table macro's parameters, so the explorer's sliders run this same SQL with
    bound values.

    Population: the patients active at the as-of date, i.e. scored by the churn model
    (every patient not churned by the patient_churn rule). Event: the patient churns
    within the scenario's horizon_days. The model gives p = P(no event in the next
    churn_inactivity_days); a longer horizon assumes the same risk in every following
    block of that length (constant hazard): P(churn within h) = 1 - (1 - p)^(h / days).
      expected churners    sum of P(churn within h) over the population (no plan)
      targeted             patients whose churn_risk_band is in target_risk_bands, taken
                           in outreach_priority order up to capacity (empty = all)
      churners avoided     sum over the targeted of P(churn within h) x save_rate
                           (x engage_probability when requires_engagement)
      revenue retained     the same, weighted by the patient's revenue over the horizon:
                           patient_value.monthly_revenue (recent revenue per ml_period_days)
                           x h / ml_period_days where the patient has a patient_value row,
                           else the rate of the last rfm_window_days (outreach_priority's
                           patient_value x h / rfm_window_days)
      cost                 targeted x contact_cost; net = retained - cost; roi = net / cost.
    All counts are expected values from calibrated probabilities. The save rates are
    assumptions, not measured effects. -#}
{%- set churn_days = var('churn_inactivity_days') %}
{%- set rfm_days = var('rfm_window_days') %}
{%- set month_days = var('ml_period_days') %}

with worklist as (
    select * from {{ worklist }}
),

patient_value as (
    select * from {{ patient_value }}
),

assumptions as (
    select * from {{ assumptions }}
),

scenario_patients as (
    select
        assumptions.scenario,
        assumptions.target_risk_bands,
        assumptions.capacity,
        assumptions.save_rate,
        assumptions.requires_engagement,
        assumptions.contact_cost,
        assumptions.horizon_days,
        worklist.patient_id,
        worklist.as_of_date,
        worklist.run_id,
        worklist.priority_rank,
        worklist.engage_probability,
        case
            when patient_value.patient_id is not null
                then patient_value.monthly_revenue * assumptions.horizon_days / {{ month_days }}
            else worklist.patient_value * assumptions.horizon_days / {{ rfm_days }}
        end as horizon_value,
        1 - power(
            1 - worklist.churn_probability,
            cast(assumptions.horizon_days as {{ carepulse.type_double() }}) / {{ churn_days }}
        )
            as horizon_churn_probability,
        {{ dbt.concat(["'|'", "assumptions.target_risk_bands", "'|'"]) }}
        like {{ dbt.concat(["'%|'", "worklist.churn_risk_band", "'|%'"]) }} as is_eligible
    from assumptions
    cross join worklist
    left join patient_value
        on worklist.patient_id = patient_value.patient_id
),

eligible_ranked as (
    select
        *,
        case
            when is_eligible
                then row_number() over (partition by scenario, is_eligible order by priority_rank)
        end as eligible_rank
    from scenario_patients
),

targeted as (
    select
        *,
        coalesce(is_eligible and (capacity is null or eligible_rank <= capacity), false) as is_targeted,
        horizon_churn_probability * save_rate
        * case when requires_engagement then engage_probability else 1.0 end as save_probability
    from eligible_ranked
),

per_scenario as (
    select
        scenario,
        count(*) as population_patients,
        -- exact sums: a parallel sum of doubles differs in the last bits between runs
        {{ exact_sum('horizon_churn_probability') }} as expected_churners,
        {{ exact_sum('horizon_churn_probability * horizon_value') }} as revenue_at_risk,
        sum(case when is_targeted then 1 else 0 end) as patients_targeted,
        {{ exact_sum('case when is_targeted then save_probability else 0 end') }} as churners_avoided,
        {{ exact_sum('case when is_targeted then save_probability * horizon_value else 0 end') }} as revenue_retained,
        max(as_of_date) as as_of_date,
        max(run_id) as run_id
    from targeted
    group by scenario
),

final as (
    select
        assumptions.scenario,
        assumptions.scenario_description,
        assumptions.is_illustrative,
        per_scenario.as_of_date,
        per_scenario.run_id,
        assumptions.target_risk_bands,
        cast(assumptions.capacity as {{ dbt.type_bigint() }}) as capacity,
        cast(assumptions.save_rate as {{ carepulse.type_double() }}) as save_rate,
        assumptions.requires_engagement,
        cast(assumptions.contact_cost as {{ carepulse.type_double() }}) as contact_cost,
        cast(assumptions.horizon_days as {{ dbt.type_int() }}) as horizon_days,
        cast(coalesce(per_scenario.population_patients, 0) as {{ dbt.type_bigint() }}) as population_patients,
        cast(coalesce(per_scenario.patients_targeted, 0) as {{ dbt.type_bigint() }}) as patients_targeted,
        cast(coalesce(per_scenario.expected_churners, 0) as {{ carepulse.type_double() }}) as expected_churners,
        cast(coalesce(per_scenario.churners_avoided, 0) as {{ carepulse.type_double() }}) as churners_avoided,
        {{ carepulse.safe_ratio('per_scenario.expected_churners', 'per_scenario.population_patients') }}
            as churn_rate_without_plan,
        {{ carepulse.safe_ratio(
            'per_scenario.expected_churners - per_scenario.churners_avoided', 'per_scenario.population_patients'
        ) }} as churn_rate_with_plan,
        {{ carepulse.safe_ratio('per_scenario.churners_avoided', 'per_scenario.expected_churners') }}
            as relative_churn_reduction,
        cast(coalesce(per_scenario.revenue_at_risk, 0) as {{ carepulse.type_double() }}) as revenue_at_risk,
        cast(coalesce(per_scenario.revenue_retained, 0) as {{ carepulse.type_double() }}) as revenue_retained,
        cast(coalesce(per_scenario.patients_targeted, 0) * assumptions.contact_cost as {{ carepulse.type_double() }})
            as plan_cost,
        cast(
            coalesce(per_scenario.revenue_retained, 0)
            - coalesce(per_scenario.patients_targeted, 0) * assumptions.contact_cost
            as {{ carepulse.type_double() }}
        ) as net_value,
        {{ carepulse.safe_ratio(
            'coalesce(per_scenario.revenue_retained, 0) - coalesce(per_scenario.patients_targeted, 0) * assumptions.contact_cost',
            'coalesce(per_scenario.patients_targeted, 0) * assumptions.contact_cost'
        ) }} as roi
    from assumptions
    left join per_scenario
        on assumptions.scenario = per_scenario.scenario
)

select * from final
{%- endmacro %}


{% macro create_intervention_scenario_what_if(relation) -%}
    {{ return(adapter.dispatch('create_intervention_scenario_what_if', 'carepulse')(relation)) }}
{%- endmacro %}

{% macro default__create_intervention_scenario_what_if(relation) -%}
{#- Other engines (Spark) have no table macros: the mart is built, the explorer (DuckDB
    only) is not offered there. An empty hook is skipped by dbt. -#}
{%- endmacro %}

{% macro duckdb__create_intervention_scenario_what_if(relation) -%}
{#- The mart's post-hook: a DuckDB table macro <schema>.intervention_scenario_what_if in
    the warehouse, whose body is intervention_scenarios_sql over one scenario made of the
    macro's parameters. Why a table macro: it lives in the warehouse file itself, so the
    read-only explorer calls it with bound parameters on the published file (no compiled
    SQL to ship, no string formatting of user values), and the SQL is the mart's own.
    Parameters are prefixed p_ so that DuckDB's parameter substitution never captures a
    column of the same name; they are cast to the seed's column types, so the seed's
    values give the mart's row. Relations are named without the catalog: DuckDB stores a
    macro's body as written, and the published file's catalog name differs from the
    private build file's (a view drops its own catalog, a macro does not). -#}
create or replace macro {{ relation.schema }}.intervention_scenario_what_if(
    p_target_risk_bands,
    p_capacity,
    p_save_rate,
    p_requires_engagement,
    p_contact_cost,
    p_horizon_days
) as table
{{ carepulse.intervention_scenarios_sql(
    "(select
        'explorer' as scenario,
        'Assumptions set in the explorer.' as scenario_description,
        false as is_illustrative,
        cast(p_target_risk_bands as varchar) as target_risk_bands,
        cast(p_capacity as integer) as capacity,
        cast(p_save_rate as double) as save_rate,
        cast(p_requires_engagement as boolean) as requires_engagement,
        cast(p_contact_cost as decimal(18, 2)) as contact_cost,
        cast(p_horizon_days as integer) as horizon_days) as explorer_assumptions",
    ref('outreach_priority').include(database=False),
    ref('patient_value').include(database=False),
) }}
{%- endmacro %}
