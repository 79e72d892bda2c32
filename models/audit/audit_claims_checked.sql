{#- Every staged claim with the first quarantine rule it fails (null = accepted).
    Incremental on DuckDB (issue 13, as audit_engagement_events_checked): a build reads only
    the raw files not audited yet and the files holding an accepted row of a re-checked key
    (audit_claims_recheck), and audits again every row of the re-checked keys. -#}
{{ config(**carepulse.audit_incremental_config([('claims', 'claims')])) }}
{%- set columns = carepulse.checked_columns('claims') %}
{%- set recheck = ref('audit_claims_recheck') %}
{%- set plan = carepulse.audit_read_plan(recheck) if is_incremental() else none %}
{%- set rules = [
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
] %}
with claims as (
    select * from {{ ref('stg_claims__claims') }}
    {%- if is_incremental() %}
    where {{ carepulse.incremental_audit_filter(recheck, plan, 'claim_id') }}
    {%- endif %}
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
        {{ carepulse.first_failed_rule(rules) }} as row_rule
    from claims
    cross join analysis_date
    {%- if is_incremental() %}
    -- the re-checked keys' rows audited before and not read again
    union all by name
    {{ carepulse.audited_rows_kept(recheck, plan, columns, rules) }}
    {%- endif %}
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
