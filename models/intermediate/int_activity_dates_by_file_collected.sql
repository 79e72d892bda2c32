{#- The distinct activity dates of each raw file of the activity tables (events, claims, calls),
    for int_as_of_date_resolved: the latest activity date is the max of this small table instead
    of a scan of every staged row. Incremental on DuckDB (issue 13): a build reads only the raw
    files not listed yet and deletes the rows of files gone from the raw folder (a changed
    earlier file needs --full-refresh, as everywhere in the daily loads); other engines rebuild
    it as a table. The dates are kept whatever the
    build day, so a date later than the build day counts once the clock reaches it. -#}
{%- set incremental = carepulse.audit_incremental_config(
    [('platform', 'engagement_events'), ('claims', 'claims'), ('platform', 'outreach_calls')]
) %}
{%- do incremental.update({'unique_key': ['source_table', 'source_file']}) %}
{{ config(**incremental) }}
{%- set new_engagement_events = carepulse.raw_files_not_in(
    'platform', 'engagement_events', this, "source_table = 'engagement_events'"
) if is_incremental() else [] %}
{%- set new_claims = carepulse.raw_files_not_in(
    'claims', 'claims', this, "source_table = 'claims'"
) if is_incremental() else [] %}
{%- set new_outreach_calls = carepulse.raw_files_not_in(
    'platform', 'outreach_calls', this, "source_table = 'outreach_calls'"
) if is_incremental() else [] %}

with engagement_events_dates as (
    select distinct
        'engagement_events' as source_table,
        source_file,
        cast(event_at as date) as activity_date
    from {{ ref('stg_platform__engagement_events') }}
    where
        cast(event_at as date) is not null
        and {{ carepulse.in_literals('source_file', new_engagement_events) if is_incremental() else 'true' }}
),

claims_dates as (
    select distinct
        'claims' as source_table,
        source_file,
        claim_end_date as activity_date
    from {{ ref('stg_claims__claims') }}
    where
        claim_end_date is not null
        and {{ carepulse.in_literals('source_file', new_claims) if is_incremental() else 'true' }}
),

outreach_calls_dates as (
    select distinct
        'outreach_calls' as source_table,
        source_file,
        cast(called_at as date) as activity_date
    from {{ ref('stg_platform__outreach_calls') }}
    where
        cast(called_at as date) is not null
        and {{ carepulse.in_literals('source_file', new_outreach_calls) if is_incremental() else 'true' }}
),

final as (
    select * from engagement_events_dates
    union all
    select * from claims_dates
    union all
    select * from outreach_calls_dates
)

select * from final
