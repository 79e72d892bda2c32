{#- The top of the care team's worklist: the first top_n patients of marts.outreach_priority
    (ranked by the expected value of one outreach) with their RFM scores and segment
    (patient_rfm), churn risk band, recommended channel and intervention, and the
    attributes a care manager reads before calling (dim_patients, patient_churn).
    cell_patients_in_top_n counts the top_n patients in the same RFM segment and risk
    band, to see which cells the list is made of. Needs the post-ML models
    (`carepulse build`, or `python -m ml train && python -m ml score && dbt build --selector post_ml`).
    Change the length with `dbt compile --select outreach_worklist_top --vars '{worklist_top_n: 50}'`. -#}
{%- set top_n = var('worklist_top_n', 100) -%}
with outreach_priority as (
    select * from {{ ref('outreach_priority') }}
),

patient_rfm as (
    select * from {{ ref('patient_rfm') }}
),

patient_churn as (
    select * from {{ ref('patient_churn') }}
),

dim_patients as (
    select * from {{ ref('dim_patients') }}
),

top_of_list as (
    select *
    from outreach_priority
    where priority_rank <= {{ top_n }}
),

enriched as (
    select
        top_of_list.priority_rank,
        top_of_list.patient_id,
        top_of_list.as_of_date,
        top_of_list.rfm_segment,
        patient_rfm.rfm_cell,
        patient_rfm.r_score,
        patient_rfm.f_score,
        patient_rfm.m_score,
        patient_rfm.recency_days,
        patient_rfm.frequency,
        top_of_list.churn_risk_band,
        top_of_list.churn_risk_decile,
        top_of_list.churn_probability,
        top_of_list.churn_top_factor,
        patient_churn.days_inactive,
        top_of_list.engage_probability,
        top_of_list.recommended_channel,
        top_of_list.patient_value,
        top_of_list.expected_value,
        top_of_list.intervention,
        top_of_list.intervention_description,
        dim_patients.primary_condition,
        dim_patients.location_type,
        dim_patients.age_band,
        dim_patients.referral_source,
        dim_patients.tenure_days
    from top_of_list
    left join patient_rfm
        on top_of_list.patient_id = patient_rfm.patient_id
    left join patient_churn
        on top_of_list.patient_id = patient_churn.patient_id
    left join dim_patients
        on top_of_list.patient_id = dim_patients.patient_id
),

final as (
    select
        *,
        count(*) over (partition by rfm_segment, churn_risk_band) as cell_patients_in_top_n,
        sum(expected_value) over (order by priority_rank) as cumulative_expected_value
    from enriched
)

select * from final
order by priority_rank
