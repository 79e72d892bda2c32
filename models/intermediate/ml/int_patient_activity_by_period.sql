{#- One row per patient and 30-day period from the period of enrolment up to the as-of
    date (period_index 0 ends on the as-of date, k covers the 30 days ending on
    as_of_date - 30 k, int_ml_cutoffs). Every row has the patient's events, calls, ended
    claims and journey stage entries/completions dated in that period, zero when none.
    Dense on purpose: the cutoff features are then running sums over consecutive rows
    (window functions), one pass over the data instead of a join of every activity day to
    every later cutoff. -#}
{%- set period_days = 30 -%}
{#- period index of a date: whole periods between it and the as-of date -#}
{%- set period_template = 'cast(floor(' ~ dbt.datediff('@date', 'analysis_date.as_of_date', 'day')
    ~ ' / ' ~ period_days ~ '.0) as ' ~ dbt.type_int() ~ ')' -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

stages as (
    select * from {{ ref('int_care_journey_stages_accepted') }}
),

claims as (
    select * from {{ ref('int_claims_accepted') }}
),

calls as (
    select * from {{ ref('int_outreach_calls_accepted') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

period_numbers as (
    {{ dbt.generate_series(1000) }}
),

event_days as (
    select
        events.patient_id,
        cast(events.event_at as date) as event_date,
        count(*) as events,
        sum(case when events.event_type = 'login' then 1 else 0 end) as logins,
        sum(case when events.event_type = 'telemedicine_visit' then 1 else 0 end) as telemedicine_visits,
        sum(case when events.event_type = 'medication_refill' then 1 else 0 end) as medication_refills,
        sum(case when events.event_type = 'health_tracking' then 1 else 0 end) as health_tracking,
        sum(case when events.event_type = 'education_content' then 1 else 0 end) as education_content,
        sum(case when events.event_type = 'message' then 1 else 0 end) as messages,
        sum(events.revenue_usd) as revenue_usd
    from events
    group by
        events.patient_id,
        cast(events.event_at as date)
),

event_periods as (
    select
        event_days.patient_id,
        {{ period_template | replace('@date', 'event_days.event_date') }} as period_index,
        sum(event_days.events) as events,
        count(*) as active_days,
        sum(event_days.logins) as logins,
        sum(event_days.telemedicine_visits) as telemedicine_visits,
        sum(event_days.medication_refills) as medication_refills,
        sum(event_days.health_tracking) as health_tracking,
        sum(event_days.education_content) as education_content,
        sum(event_days.messages) as messages,
        sum(event_days.revenue_usd) as revenue_usd,
        min(event_days.event_date) as first_event_date,
        max(event_days.event_date) as last_event_date
    from event_days
    cross join analysis_date
    group by
        event_days.patient_id,
        {{ period_template | replace('@date', 'event_days.event_date') }}
),

call_periods as (
    select
        calls.patient_id,
        {{ period_template | replace('@date', 'cast(calls.called_at as date)') }} as period_index,
        count(*) as calls,
        sum(case when calls.outcome = 'engaged' then 1 else 0 end) as engaged_calls,
        max(cast(calls.called_at as date)) as last_call_date
    from calls
    cross join analysis_date
    group by
        calls.patient_id,
        {{ period_template | replace('@date', 'cast(calls.called_at as date)') }}
),

-- a claim is known once it has ended
claim_periods as (
    select
        claims.patient_id,
        {{ period_template | replace('@date', 'claims.claim_end_date') }} as period_index,
        count(*) as claims_ended,
        sum(claims.paid_amount) as paid_amount,
        max(claims.claim_end_date) as last_claim_date
    from claims
    cross join analysis_date
    group by
        claims.patient_id,
        {{ period_template | replace('@date', 'claims.claim_end_date') }}
),

stage_entry_periods as (
    select
        stages.patient_id,
        {{ period_template | replace('@date', 'cast(stages.entered_at as date)') }} as period_index,
        count(*) as stages_entered,
        max(
            case stages.stage
                when 'screening' then 1
                when 'diagnosis' then 2
                when 'treatment' then 3
                when 'follow_up' then 4
            end
        ) as furthest_stage_entered,
        max(cast(stages.entered_at as date)) as last_stage_entered_date
    from stages
    cross join analysis_date
    group by
        stages.patient_id,
        {{ period_template | replace('@date', 'cast(stages.entered_at as date)') }}
),

stage_completion_periods as (
    select
        stages.patient_id,
        {{ period_template | replace('@date', 'cast(stages.completed_at as date)') }} as period_index,
        count(*) as stages_completed
    from stages
    cross join analysis_date
    where stages.completed_at is not null
    group by
        stages.patient_id,
        {{ period_template | replace('@date', 'cast(stages.completed_at as date)') }}
),

enrolment_periods as (
    select
        patients.patient_id,
        {{ period_template | replace('@date', 'cast(patients.enrolled_at as date)') }} as period_index
    from patients
    cross join analysis_date
),

-- the oldest period with enrolment or any activity: the dense grid starts there
patient_spans as (
    select
        patient_id,
        max(period_index) as oldest_period_index
    from (
        select
            patient_id,
            period_index
        from enrolment_periods
        union all
        select
            patient_id,
            period_index
        from event_periods
        union all
        select
            patient_id,
            period_index
        from call_periods
        union all
        select
            patient_id,
            period_index
        from claim_periods
        union all
        select
            patient_id,
            period_index
        from stage_entry_periods
        union all
        select
            patient_id,
            period_index
        from stage_completion_periods
    ) as activity_periods
    group by patient_id
),

periods as (
    select
        period_numbers.generated_number - 1 as period_index,
        -{{ period_days }} * (period_numbers.generated_number - 1) as days_offset
    from period_numbers
),

patient_periods as (
    select
        patient_spans.patient_id,
        cast(periods.period_index as {{ dbt.type_int() }}) as period_index,
        cast({{ dbt.dateadd('day', 'periods.days_offset', 'analysis_date.as_of_date') }} as date) as period_end_date
    from patient_spans
    cross join analysis_date
    inner join periods
        on patient_spans.oldest_period_index >= periods.period_index
),

final as (
    select
        patient_periods.patient_id,
        patient_periods.period_index,
        patient_periods.period_end_date,
        cast(coalesce(event_periods.events, 0) as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(event_periods.active_days, 0) as {{ dbt.type_bigint() }}) as active_days,
        cast(coalesce(event_periods.logins, 0) as {{ dbt.type_bigint() }}) as logins,
        cast(coalesce(event_periods.telemedicine_visits, 0) as {{ dbt.type_bigint() }}) as telemedicine_visits,
        cast(coalesce(event_periods.medication_refills, 0) as {{ dbt.type_bigint() }}) as medication_refills,
        cast(coalesce(event_periods.health_tracking, 0) as {{ dbt.type_bigint() }}) as health_tracking,
        cast(coalesce(event_periods.education_content, 0) as {{ dbt.type_bigint() }}) as education_content,
        cast(coalesce(event_periods.messages, 0) as {{ dbt.type_bigint() }}) as messages,
        cast(coalesce(event_periods.revenue_usd, 0) as {{ carepulse.type_money() }}) as revenue_usd,
        event_periods.first_event_date,
        event_periods.last_event_date,
        cast(coalesce(call_periods.calls, 0) as {{ dbt.type_bigint() }}) as calls,
        cast(coalesce(call_periods.engaged_calls, 0) as {{ dbt.type_bigint() }}) as engaged_calls,
        call_periods.last_call_date,
        cast(coalesce(claim_periods.claims_ended, 0) as {{ dbt.type_bigint() }}) as claims_ended,
        cast(coalesce(claim_periods.paid_amount, 0) as {{ carepulse.type_money() }}) as paid_amount,
        claim_periods.last_claim_date,
        cast(coalesce(stage_entry_periods.stages_entered, 0) as {{ dbt.type_bigint() }}) as stages_entered,
        cast(coalesce(stage_entry_periods.furthest_stage_entered, 0) as {{ dbt.type_int() }})
            as furthest_stage_entered,
        stage_entry_periods.last_stage_entered_date,
        cast(coalesce(stage_completion_periods.stages_completed, 0) as {{ dbt.type_bigint() }}) as stages_completed
    from patient_periods
    left join event_periods
        on
            patient_periods.patient_id = event_periods.patient_id
            and patient_periods.period_index = event_periods.period_index
    left join call_periods
        on
            patient_periods.patient_id = call_periods.patient_id
            and patient_periods.period_index = call_periods.period_index
    left join claim_periods
        on
            patient_periods.patient_id = claim_periods.patient_id
            and patient_periods.period_index = claim_periods.period_index
    left join stage_entry_periods
        on
            patient_periods.patient_id = stage_entry_periods.patient_id
            and patient_periods.period_index = stage_entry_periods.period_index
    left join stage_completion_periods
        on
            patient_periods.patient_id = stage_completion_periods.patient_id
            and patient_periods.period_index = stage_completion_periods.period_index
)

select * from final
