{#- One row per patient who entered the care pathway (definitions in int_patient_journeys_classified). -#}
with journeys as (
    select * from {{ ref('int_patient_journeys_classified') }}
),

patients as (
    select * from {{ ref('int_patients_profiled') }}
),

final as (
    select
        journeys.patient_id,
        journeys.furthest_stage,
        journeys.furthest_stage_order,
        journeys.is_furthest_stage_completed,
        journeys.journey_status,
        journeys.stages_entered,
        journeys.stages_completed,
        journeys.pathway_entered_date,
        journeys.pathway_completed_date,
        journeys.last_pathway_date,
        journeys.days_in_pathway,
        journeys.days_since_furthest_stage_entered,
        patients.primary_condition,
        patients.location_type,
        journeys.as_of_date
    from journeys
    inner join patients
        on journeys.patient_id = patients.patient_id
)

select * from final
