{#- The care pathway funnel, one row per stage (stage_order gives the order), all patients.
    Per-segment funnels are in care_journey_funnel_by_segment. -#}
with funnel as (
    select * from {{ ref('int_care_journey_funnel_segmented') }}
),

final as (
    select
        stage,
        stage_order,
        pathway_patients,
        patients_entered,
        patients_completed,
        patients_dropped_out,
        patients_in_progress,
        stage_conversion_rate,
        cumulative_conversion_rate,
        dropout_rate,
        median_days_in_stage
    from funnel
    where dimension = 'overall'
)

select * from final
