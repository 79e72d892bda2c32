{#- One row per patient who entered the care pathway: how far they got and their status.
      completed    the final stage of the pathway (highest stage_order) was completed;
      dropped_out  otherwise, when the pathway has stalled for more than dropout_after_days
                   before the as-of date: the furthest stage was entered (and not completed)
                   that long ago, or it was completed that long ago and the next stage was
                   never entered (a patient screened in March who never came back has left);
      in_progress  everything else: still inside the dropout window.
    days_in_pathway runs from the first stage entered to the pathway's end: the final
    stage's completion (completed), the last pathway date seen (dropped_out), or the
    as-of date (in_progress). -#}
with stages as (
    select * from {{ ref('int_care_journey_stages_ordered') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

ranked_stages as (
    select
        *,
        row_number() over (partition by patient_id order by stage_order desc) as stage_rank_from_furthest
    from stages
),

per_patient as (
    select
        patient_id,
        count(*) as stages_entered,
        sum(case when is_completed then 1 else 0 end) as stages_completed,
        min(entered_date) as pathway_entered_date,
        max(case when completed_date > entered_date then completed_date else entered_date end)
            as last_pathway_date,
        max(case when stage_rank_from_furthest = 1 then stage end) as furthest_stage,
        max(case when stage_rank_from_furthest = 1 then stage_order end) as furthest_stage_order,
        max(case when stage_rank_from_furthest = 1 then entered_date end) as furthest_stage_entered_date,
        max(case when stage_rank_from_furthest = 1 then completed_date end) as furthest_stage_completed_date,
        max(case when is_final_stage and is_completed then completed_date end) as pathway_completed_date
    from ranked_stages
    group by patient_id
),

classified as (
    select
        per_patient.*,
        analysis_date.as_of_date,
        {{ dbt.datediff('per_patient.furthest_stage_entered_date', 'analysis_date.as_of_date', 'day') }}
            as days_since_furthest_stage_entered,
        case
            when per_patient.pathway_completed_date is not null then 'completed'
            when
                {{ dbt.datediff('per_patient.last_pathway_date', 'analysis_date.as_of_date', 'day') }}
                > {{ var('dropout_after_days') }}
                then 'dropped_out'
            else 'in_progress'
        end as journey_status
    from per_patient
    cross join analysis_date
),

final as (
    select
        patient_id,
        cast(stages_entered as {{ dbt.type_int() }}) as stages_entered,
        cast(stages_completed as {{ dbt.type_int() }}) as stages_completed,
        furthest_stage,
        cast(furthest_stage_order as {{ dbt.type_int() }}) as furthest_stage_order,
        furthest_stage_entered_date,
        furthest_stage_completed_date is not null as is_furthest_stage_completed,
        journey_status,
        pathway_entered_date,
        pathway_completed_date,
        last_pathway_date,
        cast(
            {{ dbt.datediff(
                'pathway_entered_date',
                "case journey_status when 'completed' then pathway_completed_date"
                ~ " when 'dropped_out' then last_pathway_date else as_of_date end",
                'day',
            ) }} as {{ dbt.type_int() }}
        ) as days_in_pathway,
        cast(days_since_furthest_stage_entered as {{ dbt.type_int() }}) as days_since_furthest_stage_entered,
        as_of_date
    from classified
)

select * from final
