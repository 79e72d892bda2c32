{#- One row per accepted patient: churned or not at the as-of date.
    The inactivity clock starts at the last engagement event, or at enrolment for a patient
    with no events; a patient is churned when it has run more than churn_inactivity_days
    (exactly that many days is still retained). churned_at is the first day the rule held. -#}
{%- set churn_days = var('churn_inactivity_days') %}

with activity as (
    select * from {{ ref('int_patient_activity_summarised') }}
),

inactivity as (
    select
        patient_id,
        as_of_date,
        enrolled_date,
        last_active_date,
        lifetime_events,
        coalesce(last_active_date, enrolled_date) as inactive_since_date,
        {{ dbt.datediff('coalesce(last_active_date, enrolled_date)', 'as_of_date', 'day') }}
            as days_inactive
    from activity
),

classified as (
    select
        *,
        days_inactive > {{ churn_days }} as is_churned
    from inactivity
),

final as (
    select
        patient_id,
        as_of_date,
        enrolled_date,
        last_active_date,
        cast(days_inactive as {{ dbt.type_int() }}) as days_inactive,
        lifetime_events > 0 as has_activity,
        is_churned,
        case
            when is_churned
                then cast({{ dbt.dateadd('day', churn_days + 1, 'inactive_since_date') }} as date)
        end as churned_at,
        case
            when is_churned then 'churned'
            when lifetime_events > 0 then 'active'
            else 'new'
        end as churn_status
    from classified
)

select * from final
