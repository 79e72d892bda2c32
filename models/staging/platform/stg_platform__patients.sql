{#- Direct identifiers stop here: names, email and phone are not selected, birth date and
    ZIP are reduced to year and 3-digit prefix. The one check that needs the exact birth
    date (and the ZIP's format) is computed here, where it still exists. -#}
with source as (
    select * from {{ source('platform', 'patients') }}
),

typed as (
    select
        {{ carepulse.clean_text('patient_id') }} as patient_id,
        extract(year from {{ carepulse.cast_text('birth_date', 'date') }}) as birth_year,
        upper({{ carepulse.clean_text('sex') }}) as sex,
        case
            when {{ carepulse.regex_full_match(carepulse.clean_text('zip_code'), '[0-9]{5}') }}
                then substring({{ carepulse.clean_text('zip_code') }}, 1, 3)
        end as zip3,
        coalesce(
            not {{ carepulse.regex_full_match(carepulse.clean_text('zip_code'), '[0-9]{5}') }},
            false
        ) as is_zip_malformed,
        {{ carepulse.clean_enum('location_type') }} as location_type,
        {{ carepulse.clean_enum('primary_condition') }} as primary_condition,
        {{ carepulse.clean_enum('referral_source') }} as referral_source,
        {{ carepulse.clean_enum('plan_type') }} as plan_type,
        {{ carepulse.cast_text('enrolled_at', 'timestamp') }} as enrolled_at,
        coalesce(
            {{ carepulse.cast_text('birth_date', 'date') }}
            > cast({{ carepulse.cast_text('enrolled_at', 'timestamp') }} as date),
            false
        ) as is_born_after_enrolment,
        {{ carepulse.invalid_casts({'birth_date': 'date', 'enrolled_at': 'timestamp'}) }} as invalid_casts,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record([
            'patient_id', 'sex', 'location_type', 'primary_condition',
            'referral_source', 'plan_type', 'enrolled_at',
        ]) }} as raw_record
    from source
)

select * from typed
