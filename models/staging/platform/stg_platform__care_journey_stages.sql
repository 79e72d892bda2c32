with source as (
    select * from {{ source('platform', 'care_journey_stages') }}
),

typed as (
    select
        {{ carepulse.clean_text('patient_id') }} as patient_id,
        {{ carepulse.clean_enum('stage') }} as stage,
        {{ carepulse.cast_text('entered_at', 'timestamp') }} as entered_at,
        {{ carepulse.cast_text('completed_at', 'timestamp') }} as completed_at,
        {{ carepulse.invalid_casts({'entered_at': 'timestamp', 'completed_at': 'timestamp'}) }} as invalid_casts,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record(['patient_id', 'stage', 'entered_at', 'completed_at']) }} as raw_record
    from source
)

select * from typed
