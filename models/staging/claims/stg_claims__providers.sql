with source as (
    select * from {{ source('claims', 'providers') }}
),

typed as (
    select
        {{ carepulse.clean_text('provider_id') }} as provider_id,
        {{ carepulse.clean_text('provider_name') }} as provider_name,
        {{ carepulse.clean_enum('specialty') }} as specialty,
        upper({{ carepulse.clean_text('state') }}) as state,
        {{ carepulse.clean_text('city') }} as city,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record(['provider_id', 'provider_name', 'specialty', 'state', 'city']) }} as raw_record
    from source
)

select * from typed
