{#- Composite engagement score 0-100 per accepted patient at the as-of date, from activity
    in the engagement window (the engagement_score_window_days ending on the as-of date):
      breadth  distinct event types used in the window / number of event types;
      depth    percentile rank (0-1) of active days in the window among all patients,
               so a patient is compared with the population rather than an arbitrary target;
      trend    events in the window vs the previous window of equal length,
               (current - previous) / (current + previous) rescaled from [-1, 1] to [0, 1];
               0 when both windows are empty.
    score = 100 * sum(weight x component), weights from seed engagement_score_weights. -#}
{%- set event_type_count = carepulse.engagement_event_types() | length %}

with activity as (
    select * from {{ ref('int_patient_activity_summarised') }}
),

weights as (
    select * from {{ ref('engagement_score_weights') }}
),

component_weights as (
    select
        max(case when component = 'breadth' then weight end) as breadth_weight,
        max(case when component = 'depth' then weight end) as depth_weight,
        max(case when component = 'trend' then weight end) as trend_weight
    from weights
),

components as (
    select
        patient_id,
        as_of_date,
        engagement_window_events,
        engagement_window_active_days,
        engagement_window_event_types,
        previous_window_events,
        cast(engagement_window_event_types as {{ carepulse.type_double() }}) / {{ event_type_count }} as breadth_score,
        cast(
            percent_rank() over (order by engagement_window_active_days) as {{ carepulse.type_double() }}
        ) as depth_score,
        case
            when engagement_window_events + previous_window_events = 0 then 0.0
            else (
                cast(engagement_window_events - previous_window_events as {{ carepulse.type_double() }})
                / (engagement_window_events + previous_window_events)
                + 1
            ) / 2
        end as trend_score
    from activity
),

final as (
    select
        components.patient_id,
        components.as_of_date,
        cast(components.engagement_window_events as {{ dbt.type_bigint() }}) as engagement_window_events,
        cast(components.engagement_window_active_days as {{ dbt.type_int() }}) as engagement_window_active_days,
        cast(components.engagement_window_event_types as {{ dbt.type_int() }}) as engagement_window_event_types,
        cast(components.previous_window_events as {{ dbt.type_bigint() }}) as previous_window_events,
        cast(components.breadth_score as {{ carepulse.type_double() }}) as breadth_score,
        cast(components.depth_score as {{ carepulse.type_double() }}) as depth_score,
        cast(components.trend_score as {{ carepulse.type_double() }}) as trend_score,
        cast(
            100 * (
                component_weights.breadth_weight * components.breadth_score
                + component_weights.depth_weight * components.depth_score
                + component_weights.trend_weight * components.trend_score
            ) as {{ carepulse.type_double() }}
        ) as engagement_score
    from components
    cross join component_weights
)

select * from final
