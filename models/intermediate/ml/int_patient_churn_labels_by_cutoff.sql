{#- The churn label of every patient who is active at a labelled cutoff: churned when the
    patient has no engagement event in the churn_inactivity_days after the cutoff (the
    window ends on or before the as-of date, int_ml_cutoffs.is_labelled). Kept apart from
    the features on purpose: this is the only ML model that looks past a cutoff. -#}
with features as (
    select * from {{ ref('int_patient_features_by_cutoff') }}
),

cutoffs as (
    select * from {{ ref('int_ml_cutoffs') }}
),

events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

labelled as (
    select
        features.patient_id,
        features.cutoff_date,
        cutoffs.label_window_end
    from features
    inner join cutoffs
        on features.cutoff_date = cutoffs.cutoff_date
    where
        cutoffs.is_labelled
        and features.is_active
),

event_days as (
    select distinct
        patient_id,
        cast(event_at as date) as event_date
    from events
),

window_activity as (
    select
        labelled.patient_id,
        labelled.cutoff_date,
        count(*) as active_days_in_window,
        min(event_days.event_date) as next_active_date
    from labelled
    inner join event_days
        on
            labelled.patient_id = event_days.patient_id
            and event_days.event_date > labelled.cutoff_date
            and event_days.event_date <= labelled.label_window_end
    group by
        labelled.patient_id,
        labelled.cutoff_date
),

final as (
    select
        labelled.patient_id,
        labelled.cutoff_date,
        labelled.label_window_end,
        coalesce(window_activity.active_days_in_window, 0) as active_days_in_window,
        window_activity.next_active_date,
        window_activity.patient_id is null as is_churned
    from labelled
    left join window_activity
        on
            labelled.patient_id = window_activity.patient_id
            and labelled.cutoff_date = window_activity.cutoff_date
)

select * from final
