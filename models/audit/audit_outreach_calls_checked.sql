{#- Every staged outreach call with the first quarantine rule it fails (null = accepted).
    Incremental on DuckDB (issue 13, as audit_engagement_events_checked): a build reads only
    the raw files not audited yet and the files holding an accepted row of a re-checked key
    (audit_outreach_calls_recheck), and audits again every row of the re-checked keys. -#}
{{ config(**carepulse.audit_incremental_config([('platform', 'outreach_calls')])) }}
{%- set columns = carepulse.checked_columns('outreach_calls') %}
{%- set recheck = ref('audit_outreach_calls_recheck') %}
{%- set plan = carepulse.audit_read_plan(recheck) if is_incremental() else none %}
{%- set rules = [
    ('malformed_row', 'is_malformed'),
    ('missing_key', 'call_id is null'),
    ('key_too_long', carepulse.longer_than_key_limit(['call_id', 'patient_id'])),
    ('unparseable_value', "invalid_casts <> ''"),
    ('unknown_value', carepulse.not_in_domain('channel', 'outreach_calls')),
    ('unknown_value', carepulse.not_in_domain('outcome', 'outreach_calls')),
    ('impossible_date', "called_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
    ('after_as_of', 'cast(called_at as date) > analysis_date.as_of_date'),
] %}
with calls as (
    select * from {{ ref('stg_platform__outreach_calls') }}
    {%- if is_incremental() %}
    where {{ carepulse.incremental_audit_filter(recheck, plan, 'call_id') }}
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
        calls.*,
        {{ carepulse.first_failed_rule(rules) }} as row_rule
    from calls
    cross join analysis_date
    {%- if is_incremental() %}
    -- the re-checked keys' rows audited before and not read again
    union all by name
    {{ carepulse.audited_rows_kept(recheck, plan, columns, rules) }}
    {%- endif %}
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
