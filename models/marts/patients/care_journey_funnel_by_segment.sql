{#- The care pathway funnel per stage within each primary_condition and each location_type
    (long format: dimension, dimension_value). Same measures as care_journey_funnel. -#}
with funnel as (
    select * from {{ ref('int_care_journey_funnel_segmented') }}
),

final as (
    select
        dimension,
        dimension_value,
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
    where dimension <> 'overall'
)

select * from final
