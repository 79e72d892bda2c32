{{ config(tags=['post_ml']) }}

{#- The care team's pathway list (study 001): every patient inside the care pathway at the
    as-of date with the dropout model's probability of making no progress in the next
    dropout_after_days days (ml.journey_dropout_predictions_current), ranked within their
    stage (1 = most at risk) and with the features that raise their risk most. Stage order
    from seed care_journey_stage_order; patient attributes from dim_patients (no direct
    identifiers). Built by the post_ml selector, after `python -m ml score`. -#}
with predictions as (
    select * from {{ source('ml', 'journey_dropout_predictions_current') }}
),

stage_orders as (
    select * from {{ ref('care_journey_stage_order') }}
),

patients as (
    select * from {{ ref('dim_patients') }}
),

ranked as (
    select
        predictions.*,
        stage_orders.stage_order,
        row_number() over (
            partition by predictions.current_stage
            order by predictions.probability desc, predictions.patient_id asc
        ) as rank_in_stage,
        count(*) over (partition by predictions.current_stage) as patients_in_stage
    from predictions
    inner join stage_orders
        on predictions.current_stage = stage_orders.stage
),

final as (
    select
        ranked.patient_id,
        ranked.as_of_date,
        ranked.current_stage,
        cast(ranked.stage_order as {{ dbt.type_int() }}) as stage_order,
        ranked.days_in_current_stage,
        round(ranked.probability, 6) as dropout_probability,
        ranked.risk_decile,
        ranked.risk_band,
        cast(ranked.rank_in_stage as {{ dbt.type_int() }}) as rank_in_stage,
        cast(ranked.patients_in_stage as {{ dbt.type_int() }}) as patients_in_stage,
        ranked.top_factor_1,
        ranked.top_factor_2,
        ranked.top_factor_3,
        ranked.top_factors,
        patients.age_band,
        patients.sex,
        patients.location_type,
        patients.primary_condition,
        patients.plan_type,
        ranked.run_id,
        ranked.estimator
    from ranked
    inner join patients
        on ranked.patient_id = patients.patient_id
)

select * from final
