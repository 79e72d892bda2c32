{#- One row per accepted patient: lifetime activity and the windowed figures the churn,
    RFM and engagement-score marts need, all from the daily activity (no event re-scan).
    Windows end on the as-of date (inclusive) and are var-driven:
      rfm window            (as_of - rfm_window_days, as_of]
      engagement window     (as_of - engagement_score_window_days, as_of]
      previous window       the engagement window shifted back by its own length. -#}
{%- set rfm_days = var('rfm_window_days') %}
{%- set engagement_days = var('engagement_score_window_days') %}

with patients as (
    select * from {{ ref('int_patients_profiled') }}
),

daily_activity as (
    select * from {{ ref('int_patient_days_aggregated') }}
),

window_starts as (
    select distinct
        as_of_date,
        {{ dbt.dateadd('day', -rfm_days, 'as_of_date') }} as rfm_window_start_exclusive,
        {{ dbt.dateadd('day', -engagement_days, 'as_of_date') }} as engagement_window_start_exclusive,
        {{ dbt.dateadd('day', -2 * engagement_days, 'as_of_date') }} as previous_window_start_exclusive
    from patients
),

activity_in_windows as (
    select
        daily_activity.*,
        daily_activity.activity_date > window_starts.rfm_window_start_exclusive as is_in_rfm_window,
        daily_activity.activity_date > window_starts.engagement_window_start_exclusive as is_in_engagement_window,
        daily_activity.activity_date > window_starts.previous_window_start_exclusive
        and daily_activity.activity_date <= window_starts.engagement_window_start_exclusive
            as is_in_previous_window
    from daily_activity
    cross join window_starts
),

per_patient as (
    select
        patient_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date,
        sum(events) as lifetime_events,
        sum(revenue_usd) as lifetime_revenue_usd,
        sum(case when is_in_rfm_window then events else 0 end) as rfm_window_events,
        sum(case when is_in_rfm_window then revenue_usd else 0 end) as rfm_window_revenue_usd,
        sum(case when is_in_engagement_window then events else 0 end) as engagement_window_events,
        sum(case when is_in_engagement_window then 1 else 0 end) as engagement_window_active_days,
        (
            {% for event_type in carepulse.engagement_event_types() %}
                max(case when is_in_engagement_window and {{ event_type }}_events > 0 then 1 else 0 end)
                {% if not loop.last %}+{% endif %}
            {% endfor %}
        ) as engagement_window_event_types,
        sum(case when is_in_previous_window then events else 0 end) as previous_window_events
    from activity_in_windows
    group by patient_id
),

final as (
    select
        patients.patient_id,
        patients.enrolled_date,
        patients.as_of_date,
        per_patient.first_active_date,
        per_patient.last_active_date,
        cast(coalesce(per_patient.lifetime_events, 0) as {{ dbt.type_bigint() }}) as lifetime_events,
        cast(coalesce(per_patient.lifetime_revenue_usd, 0) as {{ carepulse.type_money() }}) as lifetime_revenue_usd,
        cast(coalesce(per_patient.rfm_window_events, 0) as {{ dbt.type_bigint() }}) as rfm_window_events,
        cast(coalesce(per_patient.rfm_window_revenue_usd, 0) as {{ carepulse.type_money() }}) as rfm_window_revenue_usd,
        cast(coalesce(per_patient.engagement_window_events, 0) as {{ dbt.type_bigint() }})
            as engagement_window_events,
        cast(coalesce(per_patient.engagement_window_active_days, 0) as {{ dbt.type_int() }})
            as engagement_window_active_days,
        cast(coalesce(per_patient.engagement_window_event_types, 0) as {{ dbt.type_int() }})
            as engagement_window_event_types,
        cast(coalesce(per_patient.previous_window_events, 0) as {{ dbt.type_bigint() }}) as previous_window_events
    from patients
    left join per_patient
        on patients.patient_id = per_patient.patient_id
)

select * from final
