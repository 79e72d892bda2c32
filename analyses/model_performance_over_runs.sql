{#- How the churn and engagement models performed over training runs (ml.model_runs, one
    row per run and model, appended by `python -m ml train`): the selected estimator, the
    held-out metrics, the change against the model's previous run and whether this is the
    run currently scoring. A drop in roc_auc or a rise in brier or calibration_error
    between runs is the first thing to look at after a retrain; equal data_fingerprint
    means the same training data. Needs the ML step (ml.* tables). -#}
with model_runs as (
    select * from {{ source('ml', 'model_runs') }}
),

model_runs_current as (
    select * from {{ source('ml', 'model_runs_current') }}
),

model_candidates as (
    select * from {{ source('ml', 'model_candidates') }}
),

candidates_per_run as (
    select
        run_id,
        model_name,
        count(*) as candidates
    from model_candidates
    group by run_id, model_name
),

runs_in_order as (
    select
        model_runs.model_name,
        model_runs.run_id,
        model_runs.trained_at,
        model_runs.as_of_date,
        model_runs.estimator,
        model_runs.calibration,
        candidates_per_run.candidates,
        model_runs.train_rows,
        model_runs.test_rows,
        model_runs.base_rate,
        model_runs.roc_auc,
        model_runs.pr_auc,
        model_runs.brier,
        model_runs.log_loss,
        model_runs.calibration_error,
        model_runs.lift_top_decile,
        model_runs.precision,
        model_runs.recall,
        model_runs.fit_seconds,
        model_runs.data_fingerprint,
        row_number() over (partition by model_runs.model_name order by model_runs.trained_at) as run_number,
        lag(model_runs.roc_auc) over (partition by model_runs.model_name order by model_runs.trained_at)
            as previous_roc_auc,
        lag(model_runs.brier) over (partition by model_runs.model_name order by model_runs.trained_at)
            as previous_brier,
        lag(model_runs.calibration_error) over (partition by model_runs.model_name order by model_runs.trained_at)
            as previous_calibration_error,
        lag(model_runs.data_fingerprint) over (partition by model_runs.model_name order by model_runs.trained_at)
            as previous_data_fingerprint
    from model_runs
    left join candidates_per_run
        on
            model_runs.run_id = candidates_per_run.run_id
            and model_runs.model_name = candidates_per_run.model_name
),

final as (
    select
        runs_in_order.model_name,
        runs_in_order.run_number,
        runs_in_order.run_id,
        runs_in_order.trained_at,
        runs_in_order.as_of_date,
        runs_in_order.estimator,
        runs_in_order.calibration,
        runs_in_order.candidates,
        runs_in_order.train_rows,
        runs_in_order.test_rows,
        runs_in_order.base_rate,
        runs_in_order.roc_auc,
        runs_in_order.roc_auc - runs_in_order.previous_roc_auc as roc_auc_change,
        runs_in_order.pr_auc,
        runs_in_order.brier,
        runs_in_order.brier - runs_in_order.previous_brier as brier_change,
        runs_in_order.log_loss,
        runs_in_order.calibration_error,
        runs_in_order.calibration_error - runs_in_order.previous_calibration_error as calibration_error_change,
        runs_in_order.lift_top_decile,
        runs_in_order.precision,
        runs_in_order.recall,
        runs_in_order.fit_seconds,
        runs_in_order.data_fingerprint = runs_in_order.previous_data_fingerprint as same_data_as_previous_run,
        model_runs_current.run_id is not null as is_current_run
    from runs_in_order
    left join model_runs_current
        on
            runs_in_order.model_name = model_runs_current.model_name
            and runs_in_order.run_id = model_runs_current.run_id
)

select * from final
order by model_name, run_number
