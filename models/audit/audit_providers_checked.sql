{#- Every staged provider with the first quarantine rule it fails (null = accepted). -#}
with providers as (
    select * from {{ ref('stg_claims__providers') }}
),

row_rules as (
    select
        *,
        {{ carepulse.first_failed_rule([
            ('missing_key', 'provider_id is null'),
            ('invalid_npi', 'not coalesce(' ~ carepulse.is_valid_npi('provider_id') ~ ', false)'),
        ]) }} as row_rule
    from providers
),

ranked as (
    select
        *,
        {{ carepulse.key_rank(['provider_id'], ['provider_name', 'specialty', 'state', 'city']) }} as key_rank
    from row_rules
),

checked as (
    select
        provider_id,
        provider_name,
        specialty,
        state,
        city,
        provider_id as record_key,
        coalesce(row_rule, case when key_rank > 1 then 'duplicate_key' end) as failed_rule,
        raw_record
    from ranked
),

final as (
    select
        provider_id,
        provider_name,
        specialty,
        state,
        city,
        record_key,
        failed_rule,
        -- the raw record is kept for quarantined rows only
        case when failed_rule is not null then raw_record end as raw_record
    from checked
)

select * from final
