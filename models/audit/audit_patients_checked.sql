{#- Every staged patient with the first quarantine rule it fails (null = accepted). -#}
{%- set columns = carepulse.checked_columns('patients') %}
with patients as (
    select * from {{ ref('stg_platform__patients') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

row_rules as (
    select
        patients.*,
        {{ carepulse.first_failed_rule([
            ('malformed_row', 'is_malformed'),
            ('missing_key', 'patient_id is null'),
            ('key_too_long', carepulse.longer_than_key_limit(['patient_id'])),
            ('unparseable_value', "invalid_casts <> ''"),
            ('unknown_value', carepulse.not_in_domain('sex', 'patients')),
            ('unknown_value', carepulse.not_in_domain('location_type', 'patients')),
            ('unknown_value', carepulse.not_in_domain('referral_source', 'patients')),
            ('malformed_code', 'is_zip_malformed'),
            ('impossible_date', "enrolled_at < cast(" ~ carepulse.quoted_literal(var('earliest_valid_date')) ~ " as date)"),
            ('impossible_date', 'birth_year < ' ~ (var('earliest_birth_year') | int)),
            ('impossible_date', 'is_born_after_enrolment'),
            ('after_as_of', 'cast(enrolled_at as date) > analysis_date.as_of_date'),
        ]) }} as row_rule
    from patients
    cross join analysis_date
),

ranked as (
    {{ carepulse.rows_with_key_rank('row_rules', ['patient_id'], [
        'enrolled_at', 'birth_year', 'sex', 'zip3', 'location_type',
        'primary_condition', 'referral_source', 'plan_type',
    ]) }}
),

checked as (
    select
        {{- carepulse.select_columns(columns) }}
        patient_id as record_key,
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
