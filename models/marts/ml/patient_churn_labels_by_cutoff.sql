{#- The churn label of every patient who is active at a labelled cutoff: churned when the
    patient has no engagement event in the churn_inactivity_days after the cutoff, i.e.
    their next event after the cutoff is later than label_window_end (or never comes).
    The window ends on or before the as-of date (feature_cutoffs.is_labelled). Kept apart
    from the features on purpose: this is the only ML model that looks past a cutoff. -#}
with features as (
    select * from {{ ref('patient_features_by_cutoff') }}
),

cutoffs as (
    select * from {{ ref('feature_cutoffs') }}
),

periods as (
    select * from {{ ref('int_patient_periods_aggregated') }}
),

-- first event in any newer period (up to the as-of date)
next_activity as (
    select
        patient_id,
        period_index,
        min(first_event_date) over (
            partition by patient_id
            order by period_index
            rows between 1 following and unbounded following
        ) as next_active_date
    from periods
),

labelled as (
    select
        features.patient_id,
        features.cutoff_date,
        cutoffs.period_index,
        cutoffs.label_window_end
    from features
    inner join cutoffs
        on features.cutoff_date = cutoffs.cutoff_date
    where
        cutoffs.is_labelled
        and features.is_active
),

final as (
    select
        labelled.patient_id,
        labelled.cutoff_date,
        labelled.label_window_end,
        next_activity.next_active_date,
        coalesce(next_activity.next_active_date > labelled.label_window_end, true) as is_churned
    from labelled
    inner join next_activity
        on
            labelled.patient_id = next_activity.patient_id
            and labelled.period_index = next_activity.period_index
)

select * from final
