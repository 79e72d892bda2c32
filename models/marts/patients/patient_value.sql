{{ config(tags=['post_ml']) }}

{#- Expected value of each scored patient over the next patient_value_months (12) months
    (study 000's "lifetime value"), from recent revenue and the churn model's survival:

        monthly_revenue   = revenue_90d / 90 x 30 (event revenue of the last 90 days, per
                            30-day month, at the as-of date: patient_features_by_cutoff)
        monthly_survival  = (1 - P(churn)) ^ (30 / churn_inactivity_days), i.e. the churn
                            model's probability spread as a constant monthly hazard
        expected_value    = monthly_revenue x sum over m = 1..M of monthly_survival ^ m
        value_if_retained = monthly_revenue x M
        expected_churn_loss = value_if_retained - expected_value

    P(churn) is ml.churn_predictions_current (calibrated, churn within the horizon). One
    row per patient the latest batch scored (patients not churned at the as-of date).
    Built by the post_ml selector, after `python -m ml score`. -#}
{%- set months = var('patient_value_months') -%}
{%- set horizon_days = var('churn_inactivity_days') -%}
{%- set month_days = var('ml_period_days') -%}
with churn_predictions as (
    select * from {{ source('ml', 'churn_predictions_current') }}
),

features as (
    select * from {{ ref('patient_features_by_cutoff') }}
),

scoring_features as (
    select
        patient_id,
        revenue_90d
    from features
    where is_scoring_cutoff
),

survival as (
    select
        churn_predictions.patient_id,
        churn_predictions.as_of_date,
        churn_predictions.run_id,
        churn_predictions.probability as churn_probability,
        coalesce(scoring_features.revenue_90d, 0) / 90.0 * {{ month_days }} as monthly_revenue,
        -- the exponent in double: Spark divides an integer by a decimal literal as a decimal
        -- with six places (0.333333), DuckDB in double, which moved every survival by ~1e-6
        power(
            1.0 - churn_predictions.probability,
            cast({{ month_days }} as {{ carepulse.type_double() }}) / {{ horizon_days }}
        ) as monthly_survival
    from churn_predictions
    left join scoring_features
        on churn_predictions.patient_id = scoring_features.patient_id
),

valued as (
    select
        *,
        power(monthly_survival, {{ months }}) as survival_to_horizon,
        case
            when monthly_survival >= 1.0 then {{ months }} * monthly_revenue
            else monthly_revenue * (monthly_survival - power(monthly_survival, {{ months }} + 1))
                / (1.0 - monthly_survival)
        end as expected_value,
        {{ months }} * monthly_revenue as value_if_retained
    from survival
),

final as (
    select
        patient_id,
        as_of_date,
        run_id,
        cast({{ months }} as {{ dbt.type_int() }}) as value_months,
        cast(churn_probability as {{ carepulse.type_double() }}) as churn_probability,
        cast(monthly_revenue as {{ carepulse.type_double() }}) as monthly_revenue,
        cast(monthly_survival as {{ carepulse.type_double() }}) as monthly_survival,
        cast(survival_to_horizon as {{ carepulse.type_double() }}) as survival_to_horizon,
        cast(expected_value as {{ carepulse.type_double() }}) as expected_value,
        cast(value_if_retained as {{ carepulse.type_double() }}) as value_if_retained,
        cast(value_if_retained - expected_value as {{ carepulse.type_double() }}) as expected_churn_loss
    from valued
)

select * from final
