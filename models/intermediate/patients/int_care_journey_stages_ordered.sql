{#- Patient x care pathway stage entered, with the stage's position in the pathway (seed
    care_journey_stage_order) and the days spent in it when completed. -#}
with stages as (
    select * from {{ ref('int_care_journey_stages_accepted') }}
),

stage_order as (
    select * from {{ ref('care_journey_stage_order') }}
),

final as (
    select
        stages.patient_id,
        stages.stage,
        stage_order.stage_order,
        stage_order.stage_order = (select max(stage_order) from stage_order) as is_final_stage,
        cast(stages.entered_at as date) as entered_date,
        cast(stages.completed_at as date) as completed_date,
        stages.completed_at is not null as is_completed,
        cast(
            {{ dbt.datediff('cast(stages.entered_at as date)', 'cast(stages.completed_at as date)', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_in_stage
    from stages
    inner join stage_order
        on stages.stage = stage_order.stage
)

select * from final
