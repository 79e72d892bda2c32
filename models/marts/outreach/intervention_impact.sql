{{ config(tags=['post_ml']) }}

{#- The retention study's projection (churn 74.2% -> 56.4%, revenue retained), for the
    top intervention_top_n patients of outreach_priority at the outreach_save_rate and
    outreach_contact_cost vars. One row. Change the what-if with
    `dbt build --selector post_ml --vars '{intervention_top_n: 500, outreach_save_rate: 0.3}'`.

    Expected values, from calibrated probabilities (so sums are expected counts):
      churners without outreach   sum of P(churn) over all scored (active) patients
      churners avoided            sum of P(churn) x P(engage) x save rate over the top N
      revenue retained            the same, weighted by each patient's value (RFM monetary,
                                  i.e. a year of revenue kept)
      cost                        patients contacted x contact cost; net = retained - cost.
    Churn rates are over the scored patients, within the churn horizon. The overall rates
    follow the study's framing: share of all patients churned at the end of the horizon,
    i.e. (already churned + expected new churners) / all patients (patient_churn). -#}
{%- set top_n = var('intervention_top_n') -%}
{%- set save_rate = var('outreach_save_rate') -%}
{%- set contact_cost = var('outreach_contact_cost') -%}
with worklist as (
    select * from {{ ref('outreach_priority') }}
),

patient_churn as (
    select * from {{ ref('patient_churn') }}
),

all_patients as (
    select
        count(*) as total_patients,
        sum(case when is_churned then 1 else 0 end) as churned_patients
    from patient_churn
),

population as (
    select
        max(as_of_date) as as_of_date,
        max(run_id) as run_id,
        count(*) as scored_patients,
        sum(churn_probability) as expected_churners,
        sum(churn_probability * patient_value) as revenue_at_risk
    from worklist
),

contacted as (
    select
        count(*) as patients_contacted,
        sum(churn_probability) as expected_churners_contacted,
        sum(engage_probability) as expected_engaged,
        sum(churn_probability * engage_probability * {{ save_rate }}) as churners_avoided,
        sum(expected_revenue_saved) as revenue_retained
    from worklist
    where priority_rank <= {{ top_n }}
),

projected as (
    select
        population.as_of_date,
        population.run_id,
        population.scored_patients,
        population.expected_churners,
        population.revenue_at_risk,
        coalesce(contacted.patients_contacted, 0) as patients_contacted,
        coalesce(contacted.expected_churners_contacted, 0) as expected_churners_contacted,
        coalesce(contacted.expected_engaged, 0) as expected_engaged,
        coalesce(contacted.churners_avoided, 0) as churners_avoided,
        coalesce(contacted.revenue_retained, 0) as revenue_retained,
        coalesce(contacted.patients_contacted, 0) * {{ contact_cost }} as outreach_cost,
        all_patients.total_patients,
        all_patients.churned_patients
    from population
    cross join contacted
    cross join all_patients
),

final as (
    select
        as_of_date,
        run_id,
        cast({{ top_n }} as {{ dbt.type_int() }}) as top_n,
        cast({{ save_rate }} as {{ carepulse.type_double() }}) as save_rate,
        cast({{ contact_cost }} as {{ carepulse.type_double() }}) as contact_cost,
        cast(scored_patients as {{ dbt.type_bigint() }}) as scored_patients,
        cast(patients_contacted as {{ dbt.type_bigint() }}) as patients_contacted,
        cast(expected_churners as {{ carepulse.type_double() }}) as expected_churners,
        cast(expected_churners_contacted as {{ carepulse.type_double() }}) as expected_churners_contacted,
        cast(expected_engaged as {{ carepulse.type_double() }}) as expected_engaged,
        cast(churners_avoided as {{ carepulse.type_double() }}) as churners_avoided,
        cast(expected_churners / nullif(scored_patients, 0) as {{ carepulse.type_double() }})
            as churn_rate_without_outreach,
        cast((expected_churners - churners_avoided) / nullif(scored_patients, 0) as {{ carepulse.type_double() }})
            as churn_rate_with_outreach,
        cast(churners_avoided / nullif(expected_churners, 0) as {{ carepulse.type_double() }})
            as churn_reduction_share,
        cast(total_patients as {{ dbt.type_bigint() }}) as total_patients,
        cast(churned_patients as {{ dbt.type_bigint() }}) as churned_patients,
        cast(
            (churned_patients + expected_churners) / nullif(total_patients, 0)
            as {{ carepulse.type_double() }}
        ) as overall_churn_rate_without_outreach,
        cast(
            (churned_patients + expected_churners - churners_avoided) / nullif(total_patients, 0)
            as {{ carepulse.type_double() }}
        ) as overall_churn_rate_with_outreach,
        cast(revenue_at_risk as {{ carepulse.type_double() }}) as revenue_at_risk,
        cast(revenue_retained as {{ carepulse.type_double() }}) as revenue_retained,
        cast(outreach_cost as {{ carepulse.type_double() }}) as outreach_cost,
        cast(revenue_retained - outreach_cost as {{ carepulse.type_double() }}) as net_value,
        cast((revenue_retained - outreach_cost) / nullif(outreach_cost, 0) as {{ carepulse.type_double() }})
            as return_on_cost
    from projected
)

select * from final
