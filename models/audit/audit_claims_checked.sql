{#- Every staged claim with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('claims') %}
with claims as (
    select * from {{ ref('stg_claims__claims') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

accepted_patients as (
    select patient_id from {{ ref('audit_patients_checked') }}
    where failed_rule is null
),

accepted_providers as (
    select provider_id from {{ ref('audit_providers_checked') }}
    where failed_rule is null
),

row_rules as (
    select
        claims.*,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'claim_id is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['claim_id', 'patient_id', 'provider_id'])),
            ('unparseable_value', "invalid_casts <> ''"),
            ('malformed_code', 'not coalesce(' ~ carepulse.regex_full_match(
                'diagnosis_code', '[A-Z][0-9][0-9A-Z](\\.?[0-9A-Z]{1,4})?'
            ) ~ ', false)'),
            ('impossible_date', "claim_start_date < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
            ('end_before_start', 'claim_end_date < claim_start_date'),
            ('after_as_of', 'claim_end_date > analysis_date.as_of_date'),
            ('negative_amount', 'paid_amount < 0 or deductible_amount < 0'),
        ]) }} as row_rule
    from claims
    cross join analysis_date
),

ranked as (
    {{ carepulse.rows_with_key_rank('row_rules', ['claim_id'], [
        'claim_start_date', 'claim_end_date', 'patient_id', 'provider_id',
        'paid_amount', 'deductible_amount', 'diagnosis_code', 'procedure_code',
    ]) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns, 'ranked.') }}
        ranked.claim_id as record_key,
        coalesce(
            ranked.row_rule,
            case when ranked.key_rank > 1 then 'duplicate_key' end,
            case
                when accepted_patients.patient_id is null
                    or accepted_providers.provider_id is null
                    then 'orphan_reference'
            end
        ) as failed_rule,
        ranked.source_file,
        ranked.raw_record
    from ranked
    left join accepted_patients
        on ranked.patient_id = accepted_patients.patient_id
    left join accepted_providers
        on ranked.provider_id = accepted_providers.provider_id
),

final as (
    select
        {{- carepulse.select_columns(columns) }}
        record_key,
        source_file,
        failed_rule,
        -- the raw record is kept for quarantined rows only
        case when failed_rule is not null then raw_record end as raw_record
    from checked
)

select * from final
