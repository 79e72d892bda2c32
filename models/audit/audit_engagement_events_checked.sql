{#- Every staged engagement event with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('engagement_events') %}
with events as (
    select * from {{ ref('stg_platform__engagement_events') }}
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
        events.*,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'event_id is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['event_id', 'patient_id'])),
            ('unparseable_value', "invalid_casts <> ''"),
            ('unknown_value', carepulse.not_in_domain('event_type', 'engagement_events')),
            ('impossible_date', "event_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
            ('after_as_of', 'cast(event_at as date) > analysis_date.as_of_date'),
            ('negative_amount', 'revenue_usd < 0'),
        ]) }} as row_rule
    from events
    cross join analysis_date
),

ranked as (
    {{ carepulse.rows_with_key_rank(
        'row_rules', ['event_id'], ['event_at', 'patient_id', 'event_type', 'revenue_usd']
    ) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns, 'ranked.') }}
        ranked.event_id as record_key,
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
