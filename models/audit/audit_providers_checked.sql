{#- Every staged provider with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('providers') %}
with providers as (
    select * from {{ ref('stg_claims__providers') }}
),

row_rules as (
    select
        *,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'provider_id is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['provider_id'])),
            ('invalid_npi', 'not coalesce(' ~ carepulse.is_valid_npi('provider_id') ~ ', false)'),
            ('malformed_code', 'not coalesce(' ~ carepulse.regex_full_match('state', '[A-Z]{2}') ~ ', state is null)'),
        ]) }} as row_rule
    from providers
),

ranked as (
    {{ carepulse.rows_with_key_rank('row_rules', ['provider_id'], ['provider_name', 'specialty', 'state', 'city']) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns) }}
        provider_id as record_key,
        coalesce(row_rule, case when key_rank > 1 then 'duplicate_key' end) as failed_rule,
        source_file,
        raw_record
    from ranked
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
