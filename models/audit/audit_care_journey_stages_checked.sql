{#- Every staged care journey stage with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('care_journey_stages') %}
with stages as (
    select * from {{ ref('stg_platform__care_journey_stages') }}
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
        stages.*,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'patient_id is null or stage is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['patient_id', 'stage'])),
            ('unparseable_value', "invalid_casts <> ''"),
            ('unknown_value', carepulse.not_in_domain('stage', 'care_journey_stages')),
            ('impossible_date', "entered_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
            ('end_before_start', 'completed_at < entered_at'),
            ('after_as_of', 'cast(coalesce(completed_at, entered_at) as date) > analysis_date.as_of_date'),
        ]) }} as row_rule
    from stages
    cross join analysis_date
),

-- a completed row before the open one of the same entry (explicitly: engines differ on
-- where nulls sort): a stage's completion arrives as its row again with completed_at set
ranked as (
    {{ carepulse.rows_with_key_rank(
        'row_rules', ['patient_id', 'stage'], ['entered_at', 'completed_at is null', 'completed_at']
    ) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns, 'ranked.') }}
        {{ dbt.concat(["coalesce(ranked.patient_id, '')", "'|'", "coalesce(ranked.stage, '')"]) }} as record_key,
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
