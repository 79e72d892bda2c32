{{ config(tags=['post_ml']) }}

{#- Predictions checked against what happened, one row per scored batch (run_id, model,
    as_of_date) whose outcome window has closed: the realised ROC AUC (rank-based, macro
    roc_auc_by_group), the Brier score, the mean predicted probability against the
    realised rate, and the precision in the top of the worklist (the batch's highest
    probability decile) with its lift over the realised rate. The held-out ROC AUC the
    run reported at training time sits beside the realised one. -#}
with examples as (
    select * from {{ ref('int_prediction_outcomes_observed') }}
),

model_runs as (
    select * from {{ source('ml', 'model_runs') }}
),

ranked_auc as (
    {{ carepulse.roc_auc_by_group('examples', ['run_id', 'model_name', 'as_of_date'], 'probability', 'is_positive') }}
),

batches as (
    select
        run_id,
        model_name,
        as_of_date,
        max(evaluated_as_of_date) as evaluated_as_of_date,
        max(outcome_window_days) as outcome_window_days,
        count(*) as examples,
        sum(case when is_positive then 1 else 0 end) as positives,
        avg(probability) as mean_probability,
        avg(
            (probability - case when is_positive then 1.0 else 0.0 end)
            * (probability - case when is_positive then 1.0 else 0.0 end)
        ) as brier,
        sum(case when probability_decile = 10 then 1 else 0 end) as top_decile_examples,
        sum(case when probability_decile = 10 and is_positive then 1 else 0 end) as top_decile_positives
    from examples
    group by
        run_id,
        model_name,
        as_of_date
),

checked as (
    select
        batches.*,
        ranked_auc.roc_auc as realised_roc_auc,
        model_runs.roc_auc as heldout_roc_auc,
        batches.positives * 1.0 / batches.examples as realised_rate,
        case
            when batches.top_decile_examples > 0
                then batches.top_decile_positives * 1.0 / batches.top_decile_examples
        end as top_decile_precision
    from batches
    inner join ranked_auc
        on batches.run_id = ranked_auc.run_id
            and batches.model_name = ranked_auc.model_name
            and batches.as_of_date = ranked_auc.as_of_date
    left join model_runs
        on batches.run_id = model_runs.run_id
            and batches.model_name = model_runs.model_name
),

final as (
    select
        run_id,
        model_name,
        as_of_date,
        evaluated_as_of_date,
        cast(outcome_window_days as {{ dbt.type_int() }}) as outcome_window_days,
        cast(examples as {{ dbt.type_bigint() }}) as examples,
        cast(positives as {{ dbt.type_bigint() }}) as positives,
        cast(round(realised_rate, 6) as {{ carepulse.type_double() }}) as realised_rate,
        cast(round(mean_probability, 6) as {{ carepulse.type_double() }}) as mean_probability,
        cast(round(brier, 6) as {{ carepulse.type_double() }}) as brier,
        cast(round(realised_roc_auc, 6) as {{ carepulse.type_double() }}) as realised_roc_auc,
        cast(round(heldout_roc_auc, 6) as {{ carepulse.type_double() }}) as heldout_roc_auc,
        cast(top_decile_examples as {{ dbt.type_bigint() }}) as top_decile_examples,
        cast(top_decile_positives as {{ dbt.type_bigint() }}) as top_decile_positives,
        cast(round(top_decile_precision, 6) as {{ carepulse.type_double() }}) as top_decile_precision,
        cast(
            round(case when realised_rate > 0 then top_decile_precision / realised_rate end, 6)
            as {{ carepulse.type_double() }}
        ) as top_decile_lift
    from checked
)

select * from final
