{{ config(tags=['post_ml']) }}

{#- Calibration of every checked batch: its examples in ten groups by predicted probability
    (decile 10 = highest), with the mean predicted probability next to the share that
    really turned out positive. A calibrated model has the two close in every decile. -#}
with examples as (
    select * from {{ ref('int_prediction_outcomes_observed') }}
),

deciles as (
    select
        run_id,
        model_name,
        as_of_date,
        probability_decile,
        count(*) as examples,
        sum(case when is_positive then 1 else 0 end) as positives,
        avg(probability) as mean_probability,
        min(probability) as min_probability,
        max(probability) as max_probability
    from examples
    group by
        run_id,
        model_name,
        as_of_date,
        probability_decile
),

final as (
    select
        run_id,
        model_name,
        as_of_date,
        cast(probability_decile as {{ dbt.type_int() }}) as probability_decile,
        cast(examples as {{ dbt.type_bigint() }}) as examples,
        cast(positives as {{ dbt.type_bigint() }}) as positives,
        cast(round(mean_probability, 6) as {{ carepulse.type_double() }}) as mean_probability,
        cast(round(positives * 1.0 / examples, 6) as {{ carepulse.type_double() }}) as realised_rate,
        cast(round(min_probability, 6) as {{ carepulse.type_double() }}) as min_probability,
        cast(round(max_probability, 6) as {{ carepulse.type_double() }}) as max_probability
    from deciles
)

select * from final
