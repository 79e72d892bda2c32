with source as (
    select * from {{ source('claims', 'claims') }}
),

typed as (
    select
        {{ carepulse.clean_text('claim_id') }} as claim_id,
        {{ carepulse.clean_text('patient_id') }} as patient_id,
        {{ carepulse.clean_text('provider_id') }} as provider_id,
        {{ carepulse.cast_text('claim_start_date', 'date') }} as claim_start_date,
        {{ carepulse.cast_text('claim_end_date', 'date') }} as claim_end_date,
        {{ carepulse.cast_text('paid_amount', 'decimal(18,2)') }} as paid_amount,
        {{ carepulse.cast_text('deductible_amount', 'decimal(18,2)') }} as deductible_amount,
        upper({{ carepulse.clean_text('diagnosis_code') }}) as diagnosis_code,
        upper({{ carepulse.clean_text('procedure_code') }}) as procedure_code,
        {{ carepulse.invalid_casts({
            'claim_start_date': 'date', 'claim_end_date': 'date',
            'paid_amount': 'decimal(18,2)', 'deductible_amount': 'decimal(18,2)',
        }) }} as invalid_casts,
        {{ carepulse.raw_malformed() }} is not null as is_malformed,
        {{ carepulse.raw_source_file() }} as source_file,
        {{ carepulse.raw_record([
            'claim_id', 'patient_id', 'provider_id', 'claim_start_date', 'claim_end_date',
            'paid_amount', 'deductible_amount', 'diagnosis_code', 'procedure_code',
        ]) }} as raw_record
    from source
)

select * from typed
