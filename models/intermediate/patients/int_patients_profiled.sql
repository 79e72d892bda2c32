{#- One row per accepted patient with the derived attributes every patient mart slices by:
    age and age band at the as-of date, enrolment date and month, tenure. -#}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

age_bands as (
    select * from {{ ref('patient_age_bands') }}
),

aged as (
    select
        patients.patient_id,
        patients.birth_year,
        patients.sex,
        patients.zip3,
        patients.location_type,
        patients.primary_condition,
        patients.referral_source,
        patients.plan_type,
        patients.enrolled_at,
        analysis_date.as_of_date,
        -- Only the birth year survives staging (privacy), so age is in whole calendar years.
        cast(extract(year from analysis_date.as_of_date) - patients.birth_year as {{ dbt.type_int() }}) as age,
        cast(patients.enrolled_at as date) as enrolled_date
    from patients
    cross join analysis_date
),

final as (
    select
        aged.patient_id,
        aged.birth_year,
        aged.age,
        age_bands.age_band,
        aged.sex,
        aged.zip3,
        aged.location_type,
        aged.primary_condition,
        aged.referral_source,
        aged.plan_type,
        aged.enrolled_at,
        aged.enrolled_date,
        cast({{ dbt.date_trunc('month', 'aged.enrolled_date') }} as date) as enrolment_month,
        cast(
            {{ dbt.datediff('aged.enrolled_date', 'aged.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as tenure_days,
        aged.as_of_date
    from aged
    left join age_bands
        on
            aged.age >= age_bands.min_age
            and (aged.age <= age_bands.max_age or age_bands.max_age is null)
)

select * from final
