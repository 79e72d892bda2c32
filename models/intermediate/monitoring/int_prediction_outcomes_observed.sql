{{ config(tags=['post_ml']) }}

{#- Every scored prediction whose outcome window has closed by the current as-of date, with
    what happened (one row per example, the grain the monitoring marts aggregate):

    churn       one row per patient of a churn batch (run_id, as_of_date); the outcome
                window is (as_of_date, as_of_date + churn_inactivity_days] and the patient
                churned (is_positive) when they had no engagement event in it - the
                model's own label (marts.patient_churn_labels_by_cutoff).
    engagement  one row per outreach call on the batch's recommended channel (best_channel)
                in (as_of_date, as_of_date + engagement_outcome_days]; the example's score
                is the best-channel probability and it is positive when the call engaged.

    Prediction history is read from the ml tables (all batches, not the *_current views),
    so a batch scored by an earlier build is checked once a later build has the newer data.
    A batch whose window is still open is left out (its outcome is not known yet).
    probability_decile: ntile(10) of the probability within the batch and model (10 = highest;
    ties broken by example_id), the calibration deciles and the top of the worklist. -#}
{%- set churn_days = var('churn_inactivity_days') -%}
{%- set engagement_days = var('engagement_outcome_days') -%}
with churn_predictions as (
    select * from {{ source('ml', 'churn_predictions') }}
),

engagement_predictions as (
    select * from {{ source('ml', 'engagement_predictions') }}
),

as_of as (
    select * from {{ ref('as_of_date') }}
),

events as (
    select * from {{ ref('fct_engagement_events') }}
),

calls as (
    select * from {{ ref('fct_outreach_calls') }}
),

churn_batches as (
    select
        churn_predictions.run_id,
        churn_predictions.model_name,
        churn_predictions.as_of_date,
        churn_predictions.patient_id,
        churn_predictions.probability,
        as_of.as_of_date as evaluated_as_of_date,
        {{ dbt.dateadd('day', churn_days, 'churn_predictions.as_of_date') }} as outcome_window_end
    from churn_predictions
    cross join as_of
    where {{ dbt.dateadd('day', churn_days, 'churn_predictions.as_of_date') }} <= as_of.as_of_date
),

churn_activity as (
    select
        churn_batches.run_id,
        churn_batches.as_of_date,
        churn_batches.patient_id,
        count(events.event_id) as events_in_window
    from churn_batches
    left join events
        on churn_batches.patient_id = events.patient_id
            and churn_batches.as_of_date < events.event_date
            and churn_batches.outcome_window_end >= events.event_date
    group by
        churn_batches.run_id,
        churn_batches.as_of_date,
        churn_batches.patient_id
),

churn_examples as (
    select
        churn_batches.run_id,
        churn_batches.model_name,
        churn_batches.as_of_date,
        churn_batches.evaluated_as_of_date,
        {{ churn_days }} as outcome_window_days,
        churn_batches.patient_id as example_id,
        churn_batches.patient_id,
        churn_batches.probability,
        churn_activity.events_in_window = 0 as is_positive
    from churn_batches
    inner join churn_activity
        on churn_batches.run_id = churn_activity.run_id
            and churn_batches.as_of_date = churn_activity.as_of_date
            and churn_batches.patient_id = churn_activity.patient_id
),

engagement_examples as (
    select
        engagement_predictions.run_id,
        engagement_predictions.model_name,
        engagement_predictions.as_of_date,
        as_of.as_of_date as evaluated_as_of_date,
        {{ engagement_days }} as outcome_window_days,
        calls.call_id as example_id,
        engagement_predictions.patient_id,
        engagement_predictions.probability,
        calls.is_engaged as is_positive
    from engagement_predictions
    cross join as_of
    inner join calls
        on engagement_predictions.patient_id = calls.patient_id
            and engagement_predictions.best_channel = calls.channel
            and engagement_predictions.as_of_date < calls.called_date
            and calls.called_date <= {{ dbt.dateadd('day', engagement_days, 'engagement_predictions.as_of_date') }}
    where {{ dbt.dateadd('day', engagement_days, 'engagement_predictions.as_of_date') }} <= as_of.as_of_date
),

examples as (
    select * from churn_examples
    union all
    select * from engagement_examples
),

final as (
    select
        run_id,
        model_name,
        as_of_date,
        cast(evaluated_as_of_date as date) as evaluated_as_of_date,
        outcome_window_days,
        example_id,
        patient_id,
        probability,
        is_positive,
        ntile(10) over (
            partition by run_id, model_name, as_of_date
            order by probability, example_id
        ) as probability_decile
    from examples
)

select * from final
