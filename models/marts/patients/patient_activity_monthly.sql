{#- Patient x calendar month from the patient's first month to the as-of month, with
    activity by event type; months without events are kept with is_active = false. -#}
with patient_months as (
    select * from {{ ref('int_patient_months_aggregated') }}
),

final as (
    select
        patient_id,
        activity_month,
        enrolment_month,
        months_since_enrolment,
        events,
        {% for event_type in carepulse.engagement_event_types() %}
            {{ event_type }}_events,
        {% endfor %}
        active_days,
        revenue_usd,
        is_active,
        is_as_of_month
    from patient_months
)

select * from final
