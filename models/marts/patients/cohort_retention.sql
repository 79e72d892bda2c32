{#- Enrolment cohort (calendar month of enrolment) x months since enrolment, up to the as-of
    month: how many of the cohort had at least one engagement event in that calendar month.
    Month 0 is the enrolment month itself (a partial month for most patients); the as-of
    month is partial too (is_complete_month = false). -#}
with patient_months as (
    select * from {{ ref('int_patient_months_aggregated') }}
),

cohort_sizes as (
    select
        enrolment_month,
        count(distinct patient_id) as cohort_size
    from patient_months
    group by enrolment_month
),

cohort_activity as (
    select
        enrolment_month,
        months_since_enrolment,
        max(activity_month) as activity_month,
        max(case when is_as_of_month then 1 else 0 end) = 0 as is_complete_month,
        sum(case when is_active then 1 else 0 end) as active_patients
    from patient_months
    -- Months before enrolment exist only for patients with events before enrolment.
    where months_since_enrolment >= 0
    group by enrolment_month, months_since_enrolment
),

final as (
    select
        cohort_activity.enrolment_month,
        cast(cohort_activity.months_since_enrolment as {{ dbt.type_int() }}) as months_since_enrolment,
        cohort_activity.activity_month,
        cast(cohort_sizes.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(cohort_activity.active_patients as {{ dbt.type_bigint() }}) as active_patients,
        {{ carepulse.safe_ratio('cohort_activity.active_patients', 'cohort_sizes.cohort_size') }} as retention_rate,
        cohort_activity.is_complete_month
    from cohort_activity
    inner join cohort_sizes
        on cohort_activity.enrolment_month = cohort_sizes.enrolment_month
)

select * from final
