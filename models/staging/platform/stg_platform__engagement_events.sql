with source as (
    select * from {{ source('platform', 'engagement_events') }}
),

typed as (
    select
        {{ carepulse.clean_text('event_id') }} as event_id,
        {{ carepulse.clean_text('patient_id') }} as patient_id,
        {{ carepulse.cast_text('event_at', 'timestamp') }} as event_at,
        {{ carepulse.clean_enum('event_type') }} as event_type,
        {{ carepulse.cast_text('revenue_usd', 'decimal(18,2)') }} as revenue_usd,
        {{ carepulse.invalid_casts({'event_at': 'timestamp', 'revenue_usd': 'decimal(18,2)'}) }} as invalid_casts,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record(['event_id', 'patient_id', 'event_at', 'event_type', 'revenue_usd']) }} as raw_record
    from source
)

select * from typed
