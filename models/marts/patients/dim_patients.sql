{#- One row per accepted patient. No direct identifiers: names, contact details, birth date
    and full ZIP never leave staging; age is derived from the birth year. -#}
with patients as (
    select * from {{ ref('int_patients_profiled') }}
),

final as (
    select
        patient_id,
        age,
        age_band,
        sex,
        zip3,
        location_type,
        primary_condition,
        referral_source,
        plan_type,
        enrolled_date,
        enrolment_month,
        tenure_days,
        as_of_date
    from patients
)

select * from final
