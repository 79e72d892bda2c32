{#- Every staged engagement event with the first quarantine rule it fails (null = accepted).
    Incremental on DuckDB (issue 13): a build reads only the raw files not audited yet and the
    files holding an accepted row of a re-checked key (audit_engagement_events_recheck), and
    audits again every row of the re-checked keys: those rows already audited and not read
    again keep their stored typed values and raw record, their row rule taken from their
    verdict (macro stored_row_rule). The key's rows are then ranked and checked together, as a
    full build does. -#}
{{ config(**carepulse.audit_incremental_config([('platform', 'engagement_events')])) }}
{%- set columns = carepulse.checked_columns('engagement_events') %}
{%- set recheck = ref('audit_engagement_events_recheck') %}
{%- set plan = carepulse.audit_read_plan(recheck) if is_incremental() else none %}
{%- set rules = [
    ('malformed_row', 'is_malformed'),
    ('missing_key', 'event_id is null'),
    ('key_too_long', carepulse.longer_than_key_limit(['event_id', 'patient_id'])),
    ('unparseable_value', "invalid_casts <> ''"),
    ('unknown_value', carepulse.not_in_domain('event_type', 'engagement_events')),
    ('impossible_date', "event_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
    ('after_as_of', 'cast(event_at as date) > analysis_date.as_of_date'),
    ('negative_amount', 'revenue_usd < 0'),
] %}
with events as (
    select * from {{ ref('stg_platform__engagement_events') }}
    {%- if is_incremental() %}
    where {{ carepulse.incremental_audit_filter(recheck, plan, 'event_id') }}
    {%- endif %}
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
        {{ carepulse.first_failed_rule(rules) }} as row_rule
    from events
    cross join analysis_date
    {%- if is_incremental() %}
    -- the re-checked keys' rows audited before and not read again
    union all by name
    {{ carepulse.audited_rows_kept(recheck, plan, columns, rules) }}
    {%- endif %}
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
