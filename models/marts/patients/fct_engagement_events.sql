{#- One row per accepted engagement event, with the patient attributes analysts slice by.
    Incremental because it is the largest table: a run reloads the events dated within
    var lookback_days before the latest event date already loaded (so rows arriving up to
    that many days late are picked up) and replaces rows by event_id, so re-running is safe.
    --full-refresh rebuilds it, e.g. after quarantine rules or patient attributes change.
    Age is the age in the event's year, so loaded rows stay true as time passes.
    Spark has no delete+insert: there the reloaded dates are event_date partitions,
    overwritten whole (macro incremental_config). -#}
{{ config(**carepulse.incremental_config('event_id', partition_column='event_date')) }}
{%- set recheck = ref('audit_engagement_events_recheck') %}

with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

patients as (
    select * from {{ ref('int_patients_profiled') }}
),

age_bands as (
    select * from {{ ref('patient_age_bands') }}
),

-- Each event's band by an equality join on its age instead of a range join of 5 million
-- events to the bands (a nested loop at scale 1). Every age above top_age falls in exactly
-- the bands top_age does (only open-topped bands reach past the last bound), and no band
-- holds an age below lowest_age, so ages are looked up clamped to top_age (bands may span up
-- to 1,000 ages).
band_bounds as (
    select
        min(min_age) as lowest_age,
        greatest(max(max_age), max(min_age)) + 1 as top_age
    from age_bands
),

age_lookup as (
    select
        ages.age,
        age_bands.age_band
    from (
        select band_bounds.lowest_age + age_numbers.generated_number - 1 as age
        from ({{ dbt.generate_series(1000) }}) as age_numbers
        cross join band_bounds
        where band_bounds.lowest_age + age_numbers.generated_number - 1 <= band_bounds.top_age
    ) as ages
    inner join age_bands
        on
            ages.age >= age_bands.min_age
            and (ages.age <= age_bands.max_age or age_bands.max_age is null)
),

new_events as (
    select
        event_id,
        patient_id,
        event_at,
        cast(event_at as date) as event_date,
        event_type,
        revenue_usd
    from events
    {%- if is_incremental() %}
    where
        cast(event_at as date) >= {{ carepulse.incremental_start('event_date') }}
        -- and the whole dates of the rows the audit checked again (e.g. a late duplicate winner)
        or cast(event_at as date) in (select recheck.activity_date from {{ recheck }} as recheck)
    {%- endif %}
),

enriched as (
    select
        new_events.event_id,
        new_events.patient_id,
        new_events.event_at,
        new_events.event_date,
        new_events.event_type,
        coalesce(new_events.revenue_usd, 0) as revenue_usd,
        cast(extract(year from new_events.event_date) - patients.birth_year as {{ dbt.type_int() }})
            as age_at_event,
        patients.sex,
        patients.zip3,
        patients.location_type,
        patients.primary_condition,
        patients.referral_source,
        patients.plan_type,
        patients.enrolment_month,
        {{ dbt.datediff('patients.enrolled_date', 'new_events.event_date', 'day') }}
            as days_since_enrolment
    from new_events
    inner join patients
        on new_events.patient_id = patients.patient_id
),

final as (
    select
        enriched.event_id,
        enriched.patient_id,
        enriched.event_at,
        enriched.event_date,
        cast({{ dbt.date_trunc('month', 'enriched.event_date') }} as date) as event_month,
        enriched.event_type,
        cast(enriched.revenue_usd as {{ carepulse.type_money() }}) as revenue_usd,
        enriched.revenue_usd > 0 as is_billable,
        enriched.age_at_event,
        age_lookup.age_band as age_band_at_event,
        enriched.sex,
        enriched.zip3,
        enriched.location_type,
        enriched.primary_condition,
        enriched.referral_source,
        enriched.plan_type,
        enriched.enrolment_month,
        cast(enriched.days_since_enrolment as {{ dbt.type_int() }}) as days_since_enrolment
    from enriched
    cross join band_bounds
    left join age_lookup
        on
            case
                when enriched.age_at_event > band_bounds.top_age then band_bounds.top_age
                else enriched.age_at_event
            end = age_lookup.age
)

select * from final
