{#- Every staged outreach call with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('outreach_calls') %}
with calls as (
    select * from {{ ref('stg_platform__outreach_calls') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

accepted_patients as (
    select patient_id from {{ ref('audit_patients_checked') }}
    where failed_rule is null
),

row_rules as (
    select
        calls.*,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'call_id is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['call_id', 'patient_id'])),
            ('unparseable_value', "invalid_casts <> ''"),
            ('unknown_value', carepulse.not_in_domain('channel', 'outreach_calls')),
            ('unknown_value', carepulse.not_in_domain('outcome', 'outreach_calls')),
            ('impossible_date', "called_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
            ('after_as_of', 'cast(called_at as date) > analysis_date.as_of_date'),
        ]) }} as row_rule
    from calls
    cross join analysis_date
),

ranked as (
    {{ carepulse.rows_with_key_rank(
        'row_rules', ['call_id'], ['called_at', 'patient_id', 'channel', 'program', 'outcome']
    ) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns, 'ranked.') }}
        ranked.call_id as record_key,
        coalesce(
            ranked.row_rule,
            case when ranked.key_rank > 1 then 'duplicate_key' end,
            case when accepted_patients.patient_id is null then 'orphan_reference' end
        ) as failed_rule,
        ranked.source_file,
        ranked.raw_record
    from ranked
    left join accepted_patients
        on ranked.patient_id = accepted_patients.patient_id
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
