{{ config(tags=['post_ml']) }}

{#- The care team's call list: one row per patient scored by the latest ML run (every
    patient not churned at the as-of date), ranked by the expected value of an outreach:

        expected_value = P(churn) x P(engage) x save rate x value - contact cost

    P(churn) and P(engage) are the calibrated probabilities of ml.churn_predictions_current
    and ml.engagement_predictions_current (engagement on the recommended channel), value is
    the patient's revenue over the RFM window (patient_rfm.monetary), and the save rate
    (share of engaged at-risk patients an outreach keeps) and contact cost are the vars
    outreach_save_rate and outreach_contact_cost. The intervention comes from seed
    outreach_interventions by RFM segment and churn risk band ('*' rows are the fallback).
    From the patient_value mart (lifetime value over var patient_value_months): the
    patient's expected value and expected churn loss, and the revenue an outreach is
    expected to save over those months, P(engage) x save rate x expected churn loss
    (expected_revenue_saved_over_value_months; the ranking still uses the RFM value).
    Best time to reach (study 003): the weekday and hour window on the recommended channel
    with the highest predicted P(engage) (ml.engagement_predictions, ml/engagement.py).
    Built by the post_ml selector, after `python -m ml score`. -#}
{%- set save_rate = var('outreach_save_rate') -%}
{%- set contact_cost = var('outreach_contact_cost') -%}
with churn_predictions as (
    select * from {{ source('ml', 'churn_predictions_current') }}
),

engagement_predictions as (
    select * from {{ source('ml', 'engagement_predictions_current') }}
),

rfm as (
    select * from {{ ref('patient_rfm') }}
),

interventions as (
    select * from {{ ref('outreach_interventions') }}
),

patient_value as (
    select * from {{ ref('patient_value') }}
),

scored as (
    select
        churn_predictions.patient_id,
        churn_predictions.as_of_date,
        churn_predictions.run_id,
        churn_predictions.probability as churn_probability,
        churn_predictions.risk_decile as churn_risk_decile,
        churn_predictions.risk_band as churn_risk_band,
        churn_predictions.top_factor_1 as churn_top_factor,
        engagement_predictions.probability as engage_probability,
        engagement_predictions.best_channel as recommended_channel,
        engagement_predictions.best_weekday,
        engagement_predictions.best_hour_start,
        engagement_predictions.best_hour_end,
        engagement_predictions.best_window_probability,
        coalesce(rfm.monetary, 0) as patient_value,
        coalesce(rfm.rfm_segment, 'Unknown') as rfm_segment,
        coalesce(patient_value.expected_value, 0) as patient_expected_value,
        coalesce(patient_value.expected_churn_loss, 0) as expected_churn_loss
    from churn_predictions
    inner join engagement_predictions
        on
            churn_predictions.patient_id = engagement_predictions.patient_id
            and churn_predictions.as_of_date = engagement_predictions.as_of_date
    left join rfm
        on churn_predictions.patient_id = rfm.patient_id
    left join patient_value
        on churn_predictions.patient_id = patient_value.patient_id
),

valued as (
    select
        *,
        churn_probability * engage_probability * {{ save_rate }} * patient_value as expected_revenue_saved,
        churn_probability * engage_probability * {{ save_rate }} * patient_value - {{ contact_cost }}
            as expected_value
    from scored
),

with_interventions as (
    select
        valued.*,
        coalesce(specific.intervention, fallback.intervention) as intervention,
        coalesce(specific.intervention_description, fallback.intervention_description)
            as intervention_description
    from valued
    left join interventions as specific
        on
            valued.rfm_segment = specific.rfm_segment
            and valued.churn_risk_band = specific.churn_risk_band
    left join interventions as fallback
        on
            fallback.rfm_segment = '*'
            and valued.churn_risk_band = fallback.churn_risk_band
),

ranked as (
    select
        *,
        row_number() over (
            order by expected_value desc, churn_probability desc, patient_id asc
        ) as priority_rank
    from with_interventions
),

final as (
    select
        cast(priority_rank as {{ dbt.type_int() }}) as priority_rank,
        patient_id,
        as_of_date,
        run_id,
        cast(churn_probability as {{ carepulse.type_double() }}) as churn_probability,
        cast(churn_risk_decile as {{ dbt.type_int() }}) as churn_risk_decile,
        churn_risk_band,
        churn_top_factor,
        cast(engage_probability as {{ carepulse.type_double() }}) as engage_probability,
        recommended_channel,
        rfm_segment,
        cast(patient_value as {{ carepulse.type_double() }}) as patient_value,
        cast({{ save_rate }} as {{ carepulse.type_double() }}) as save_rate,
        cast({{ contact_cost }} as {{ carepulse.type_double() }}) as contact_cost,
        cast(expected_revenue_saved as {{ carepulse.type_double() }}) as expected_revenue_saved,
        cast(expected_value as {{ carepulse.type_double() }}) as expected_value,
        expected_value > 0 as is_worth_contacting,
        intervention,
        intervention_description,
        cast(patient_expected_value as {{ carepulse.type_double() }}) as patient_expected_value,
        cast(expected_churn_loss as {{ carepulse.type_double() }}) as expected_churn_loss,
        cast(best_weekday + 1 as {{ dbt.type_int() }}) as best_iso_weekday,
        cast(best_hour_start as {{ dbt.type_int() }}) as best_hour_start,
        cast(best_hour_end as {{ dbt.type_int() }}) as best_hour_end,
        cast(best_window_probability as {{ carepulse.type_double() }}) as best_window_probability,
        cast(engage_probability * {{ save_rate }} * expected_churn_loss as {{ carepulse.type_double() }})
            as expected_revenue_saved_over_value_months
    from ranked
)

select * from final
