{#- The care pathway funnel per stage, once for all patients (dimension 'overall') and once
    per value of each breakdown dimension. care_journey_funnel and
    care_journey_funnel_by_segment are slices of it, so both use one definition.
    Every stage of the seed appears for every segment, with zeros when nobody entered it. -#}
{%- set breakdown_dimensions = ['primary_condition', 'location_type'] %}

with stages as (
    select * from {{ ref('int_care_journey_stages_ordered') }}
),

journeys as (
    select * from {{ ref('int_patient_journeys_classified') }}
),

patients as (
    select * from {{ ref('int_patients_profiled') }}
),

stage_orders as (
    select * from {{ ref('care_journey_stage_order') }}
),

journey_patients as (
    select
        journeys.patient_id,
        journeys.journey_status,
        journeys.furthest_stage,
        {% for dimension in breakdown_dimensions %}
            coalesce(patients.{{ dimension }}, 'unknown') as {{ dimension }},
        {% endfor %}
        'overall' as overall
    from journeys
    inner join patients
        on journeys.patient_id = patients.patient_id
),

segmented_patients as (
    {% for dimension in ['overall'] + breakdown_dimensions %}
        select
            '{{ dimension }}' as dimension,
            {{ dimension }} as dimension_value,
            patient_id,
            journey_status,
            furthest_stage
        from journey_patients
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

segments as (
    select
        dimension,
        dimension_value,
        count(*) as pathway_patients
    from segmented_patients
    group by dimension, dimension_value
),

stage_facts as (
    select
        segmented_patients.dimension,
        segmented_patients.dimension_value,
        stages.stage,
        count(*) as patients_entered,
        sum(case when stages.is_completed then 1 else 0 end) as patients_completed,
        sum(
            case
                when segmented_patients.furthest_stage = stages.stage
                    and segmented_patients.journey_status = 'dropped_out' then 1
                else 0
            end
        ) as patients_dropped_out,
        sum(
            case
                when segmented_patients.furthest_stage = stages.stage
                    and segmented_patients.journey_status = 'in_progress' then 1
                else 0
            end
        ) as patients_in_progress,
        {{ carepulse.median('stages.days_in_stage') }} as median_days_in_stage
    from segmented_patients
    inner join stages
        on segmented_patients.patient_id = stages.patient_id
    group by segmented_patients.dimension, segmented_patients.dimension_value, stages.stage
),

funnel as (
    select
        segments.dimension,
        segments.dimension_value,
        stage_orders.stage,
        stage_orders.stage_order,
        segments.pathway_patients,
        coalesce(stage_facts.patients_entered, 0) as patients_entered,
        coalesce(stage_facts.patients_completed, 0) as patients_completed,
        coalesce(stage_facts.patients_dropped_out, 0) as patients_dropped_out,
        coalesce(stage_facts.patients_in_progress, 0) as patients_in_progress,
        stage_facts.median_days_in_stage
    from segments
    cross join stage_orders
    left join stage_facts
        on
            segments.dimension = stage_facts.dimension
            and segments.dimension_value = stage_facts.dimension_value
            and stage_orders.stage = stage_facts.stage
),

final as (
    select
        dimension,
        dimension_value,
        stage,
        cast(stage_order as {{ dbt.type_int() }}) as stage_order,
        cast(pathway_patients as {{ dbt.type_bigint() }}) as pathway_patients,
        cast(patients_entered as {{ dbt.type_bigint() }}) as patients_entered,
        cast(patients_completed as {{ dbt.type_bigint() }}) as patients_completed,
        cast(patients_dropped_out as {{ dbt.type_bigint() }}) as patients_dropped_out,
        cast(patients_in_progress as {{ dbt.type_bigint() }}) as patients_in_progress,
        {{ carepulse.safe_ratio('patients_completed', 'patients_entered') }} as stage_conversion_rate,
        {{ carepulse.safe_ratio('patients_completed', 'pathway_patients') }} as cumulative_conversion_rate,
        {{ carepulse.safe_ratio('patients_dropped_out', 'patients_entered') }} as dropout_rate,
        cast(median_days_in_stage as {{ carepulse.type_double() }}) as median_days_in_stage
    from funnel
)

select * from final
