{#- Patient x care pathway stage entered, with the stage's position in the pathway (seed
    care_journey_stage_order) and the days spent in it when completed. -#}
with stages as (
    select * from {{ ref('int_care_journey_stages_accepted') }}
),

stage_orders as (
    select * from {{ ref('care_journey_stage_order') }}
),

final_stage as (
    select max(stage_order) as final_stage_order from stage_orders
),

final as (
    select
        stages.patient_id,
        stages.stage,
        stage_orders.stage_order,
        stage_orders.stage_order = final_stage.final_stage_order as is_final_stage,
        cast(stages.entered_at as date) as entered_date,
        cast(stages.completed_at as date) as completed_date,
        stages.completed_at is not null as is_completed,
        cast(
            {{ dbt.datediff('cast(stages.entered_at as date)', 'cast(stages.completed_at as date)', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_in_stage
    from stages
    inner join stage_orders
        on stages.stage = stage_orders.stage
    cross join final_stage
)

select * from final
