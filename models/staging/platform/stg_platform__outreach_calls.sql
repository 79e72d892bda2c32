with source as (
    select * from {{ source('platform', 'outreach_calls') }}
),

typed as (
    select
        {{ carepulse.clean_text('call_id') }} as call_id,
        {{ carepulse.clean_text('patient_id') }} as patient_id,
        {{ carepulse.cast_text('called_at', 'timestamp') }} as called_at,
        {{ carepulse.clean_enum('channel') }} as channel,
        {{ carepulse.clean_enum('program') }} as program,
        {{ carepulse.clean_enum('outcome') }} as outcome,
        {{ carepulse.invalid_casts({'called_at': 'timestamp'}) }} as invalid_casts,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record(['call_id', 'patient_id', 'called_at', 'channel', 'program', 'outcome']) }}
            as raw_record
    from source
)

select * from typed
