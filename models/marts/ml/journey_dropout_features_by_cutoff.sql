{#- One row per patient and cutoff (feature_cutoffs) for every patient inside the care
    pathway at the cutoff: entered a stage by then, final stage not completed by then, and
    not already dropped out (last pathway date at most var dropout_after_days before the
    cutoff, the patient_journey rule). The dropout model's (ml/dropout.py) features as of
    the end of the cutoff day: stages are known at a cutoff when entered by it, and
    completed only when completed by it. Engagement, claims, calls and demographics are
    the churn features of the same cutoff (patient_features_by_cutoff); age as a band.

    The label columns (next_pathway_date, is_dropped_out) are the only ones that look past
    the cutoff: is_dropped_out when the pathway makes no progress (no stage entered or
    completed) in (cutoff, cutoff + dropout_after_days], null until that window has closed
    by the as-of date. Such a pathway is dropped_out by the patient_journey rule at most one
    day after the window. -#}
{%- set window_days = var('dropout_after_days') -%}
with stages as (
    select * from {{ ref('int_care_journey_stages_ordered') }}
),

cutoffs as (
    select * from {{ ref('feature_cutoffs') }}
),

patient_features as (
    select * from {{ ref('patient_features_by_cutoff') }}
),

age_bands as (
    select * from {{ ref('patient_age_bands') }}
),

known_stages as (
    select
        cutoffs.cutoff_date,
        stages.patient_id,
        stages.stage,
        stages.stage_order,
        stages.is_final_stage,
        stages.entered_date,
        case when stages.completed_date <= cutoffs.cutoff_date then stages.completed_date end as completed_date,
        stages.stage_order
        = max(stages.stage_order) over (partition by cutoffs.cutoff_date, stages.patient_id) as is_current_stage
    from stages
    inner join cutoffs
        on stages.entered_date <= cutoffs.cutoff_date
),

journeys_at_cutoff as (
    select
        cutoff_date,
        patient_id,
        max(case when is_current_stage then stage end) as current_stage,
        max(stage_order) as current_stage_order,
        max(case when is_current_stage then entered_date end) as current_stage_entered_date,
        max(case when is_current_stage then completed_date end) as current_stage_completed_date,
        count(*) as stages_entered,
        count(completed_date) as stages_completed,
        min(entered_date) as pathway_entered_date,
        max(coalesce(completed_date, entered_date)) as last_pathway_date,
        max(case when is_final_stage then completed_date end) as pathway_completed_date,
        -- earlier stages were all completed (a stage is entered only after the previous one)
        sum(
            case
                when not is_current_stage
                    then {{ dbt.datediff('entered_date', 'completed_date', 'day') }}
            end
        ) as prior_stage_days_total,
        max(
            case
                when not is_current_stage
                    then {{ dbt.datediff('entered_date', 'completed_date', 'day') }}
            end
        ) as prior_stage_days_max
    from known_stages
    group by cutoff_date, patient_id
),

in_pathway as (
    select *
    from journeys_at_cutoff
    where
        pathway_completed_date is null
        and (
            {{ dbt.datediff('last_pathway_date', 'cutoff_date', 'day') }}
        ) <= {{ window_days }}
),

next_progress as (
    -- first stage entry or completion after each cutoff (a stage entered later counts by
    -- its entry, one entered by the cutoff by its completion)
    select
        cutoffs.cutoff_date,
        stages.patient_id,
        min(
            case
                when stages.entered_date > cutoffs.cutoff_date then stages.entered_date
                else stages.completed_date
            end
        ) as next_pathway_date
    from stages
    inner join cutoffs
        on
            stages.entered_date > cutoffs.cutoff_date
            or stages.completed_date > cutoffs.cutoff_date
    group by cutoffs.cutoff_date, stages.patient_id
),

joined as (
    select
        in_pathway.*,
        cutoffs.is_scoring_cutoff,
        cutoffs.as_of_date,
        cast({{ dbt.dateadd('day', window_days, 'in_pathway.cutoff_date') }} as date) as dropout_window_end,
        next_progress.next_pathway_date,
        patient_features.sex,
        patient_features.location_type,
        patient_features.primary_condition,
        patient_features.plan_type,
        patient_features.referral_source,
        age_bands.age_band,
        patient_features.tenure_days,
        patient_features.days_inactive,
        patient_features.events_30d,
        patient_features.events_90d,
        patient_features.active_days_90d,
        patient_features.claims_180d,
        patient_features.calls_90d,
        patient_features.engaged_calls_total
    from in_pathway
    inner join cutoffs
        on in_pathway.cutoff_date = cutoffs.cutoff_date
    inner join patient_features
        on
            in_pathway.patient_id = patient_features.patient_id
            and in_pathway.cutoff_date = patient_features.cutoff_date
    left join age_bands
        on
            patient_features.age_years >= age_bands.min_age
            and (age_bands.max_age is null or patient_features.age_years <= age_bands.max_age)
    left join next_progress
        on
            in_pathway.patient_id = next_progress.patient_id
            and in_pathway.cutoff_date = next_progress.cutoff_date
),

final as (
    select
        patient_id,
        cutoff_date,
        is_scoring_cutoff,
        dropout_window_end <= as_of_date as is_labelled,
        dropout_window_end,
        current_stage,
        cast(current_stage_order as {{ dbt.type_int() }}) as current_stage_order,
        current_stage_completed_date is not null as is_waiting_for_next_stage,
        cast(
            {{ dbt.datediff('current_stage_entered_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_in_current_stage,
        cast(
            {{ dbt.datediff('last_pathway_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_pathway_progress,
        cast(
            {{ dbt.datediff('pathway_entered_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_in_pathway,
        cast(stages_entered as {{ dbt.type_int() }}) as stages_entered,
        cast(stages_completed as {{ dbt.type_int() }}) as stages_completed,
        cast(prior_stage_days_total as {{ dbt.type_int() }}) as prior_stage_days_total,
        cast(prior_stage_days_max as {{ dbt.type_int() }}) as prior_stage_days_max,
        sex,
        location_type,
        primary_condition,
        plan_type,
        referral_source,
        age_band,
        tenure_days,
        days_inactive,
        events_30d,
        events_90d,
        active_days_90d,
        claims_180d,
        calls_90d,
        engaged_calls_total,
        case when dropout_window_end <= as_of_date then next_pathway_date end as next_pathway_date,
        case
            when dropout_window_end <= as_of_date
                then coalesce(next_pathway_date > dropout_window_end, true)
        end as is_dropped_out
    from joined
)

select * from final
