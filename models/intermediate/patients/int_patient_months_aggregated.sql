{#- Patient x calendar month, from the patient's first month (enrolment, or an earlier
    event) to the as-of month, including months without activity: "inactive" is a fact the
    monthly and cohort marts need, not a missing row. Built from the daily activity.
    Incremental (issue 13): a run rebuilds the months from the one holding var lookback_days
    before the latest month loaded (the previous as-of month, so its is_as_of_month flag is
    renewed), whole months at a time, plus every month of a patient not loaded yet. -#}
{{ config(**carepulse.incremental_config(['patient_id', 'activity_month'])) }}
{%- set start = carepulse.incremental_start('activity_month', grain='month') %}
{%- set recheck = ref('audit_engagement_events_recheck') %}
with patients as (
    select * from {{ ref('int_patients_profiled') }}
),

daily_activity as (
    select * from {{ ref('int_patient_days_aggregated') }}
),

{%- if is_incremental() %}

loaded_patients as (
    select distinct patient_id from {{ this }}
),
{%- endif %}

month_offsets as (
    {{ dbt.generate_series(carepulse.patient_month_spine_size()) }}
),

monthly_activity as (
    select
        patient_id,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month,
        sum(events) as events,
        {% for event_type in carepulse.engagement_event_types() %}
            sum({{ event_type }}_events) as {{ event_type }}_events,
        {% endfor %}
        count(*) as active_days,
        sum(revenue_usd) as revenue_usd
    from daily_activity
    {%- if is_incremental() %}
    where
        activity_date >= {{ start }}
        or patient_id not in (select loaded_patients.patient_id from loaded_patients)
        -- every month of the patients with a row the audit checked again before those months
        or patient_id in (
            select recheck.patient_id from {{ recheck }} as recheck
            where recheck.activity_date < {{ start }}
        )
    {%- endif %}
    group by patient_id, cast({{ dbt.date_trunc('month', 'activity_date') }} as date)
),

first_activity_months as (
    select
        patient_id,
        min(activity_month) as first_activity_month
    from monthly_activity
    group by patient_id
),

patient_first_months as (
    select
        patients.patient_id,
        patients.enrolment_month,
        cast({{ dbt.date_trunc('month', 'patients.as_of_date') }} as date) as as_of_month,
        case
            when first_activity_months.first_activity_month < patients.enrolment_month
                then first_activity_months.first_activity_month
            else patients.enrolment_month
        end as first_month
    from patients
    left join first_activity_months
        on patients.patient_id = first_activity_months.patient_id
),

calendar_bounds as (
    select
        min(first_month) as first_month,
        max(as_of_month) as as_of_month
    from patient_first_months
),

calendar_months as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.generated_number - 1', 'calendar_bounds.first_month') }} as date)
            as activity_month,
        calendar_bounds.as_of_month
    from month_offsets
    cross join calendar_bounds
),

patient_months as (
    select
        patient_first_months.patient_id,
        patient_first_months.enrolment_month,
        calendar_months.activity_month,
        calendar_months.activity_month = calendar_months.as_of_month as is_as_of_month
    from patient_first_months
    inner join calendar_months
        on
            patient_first_months.first_month <= calendar_months.activity_month
            and calendar_months.activity_month <= calendar_months.as_of_month
),

final as (
    select
        patient_months.patient_id,
        patient_months.activity_month,
        patient_months.enrolment_month,
        cast(
            {{ dbt.datediff('patient_months.enrolment_month', 'patient_months.activity_month', 'month') }}
            as {{ dbt.type_int() }}
        ) as months_since_enrolment,
        cast(coalesce(monthly_activity.events, 0) as {{ dbt.type_bigint() }}) as events,
        {% for event_type in carepulse.engagement_event_types() %}
            cast(coalesce(monthly_activity.{{ event_type }}_events, 0) as {{ dbt.type_bigint() }})
                as {{ event_type }}_events,
        {% endfor %}
        cast(coalesce(monthly_activity.active_days, 0) as {{ dbt.type_int() }}) as active_days,
        cast(coalesce(monthly_activity.revenue_usd, 0) as {{ carepulse.type_money() }}) as revenue_usd,
        coalesce(monthly_activity.events, 0) > 0 as is_active,
        patient_months.is_as_of_month
    from patient_months
    left join monthly_activity
        on
            patient_months.patient_id = monthly_activity.patient_id
            and patient_months.activity_month = monthly_activity.activity_month
    {%- if is_incremental() %}
    where
        patient_months.activity_month >= {{ start }}
        or patient_months.patient_id not in (select loaded_patients.patient_id from loaded_patients)
        or patient_months.patient_id in (
            select recheck.patient_id from {{ recheck }} as recheck
            where recheck.activity_date < {{ start }}
        )
    {%- endif %}
)

select * from final
