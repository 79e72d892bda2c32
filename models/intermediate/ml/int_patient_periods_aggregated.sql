{#- One row per patient and period of ml_period_days (30) days from the period of
    enrolment up to the as-of date (period_index 0 ends on the as-of date, k covers the 30
    days ending on as_of_date - 30 k, as marts.feature_cutoffs). Every row has the patient's events, calls, ended
    claims and journey stage entries/completions dated in that period, zero when none.
    Dense on purpose: the cutoff features are then running sums over consecutive rows
    (window functions), one pass over the data instead of a join of every activity day to
    every later cutoff. -#}
{%- set period_days = var('ml_period_days') -%}
{%- set event_type_columns = carepulse.engagement_event_type_columns() -%}
{#- period index of a date: whole periods between it and the as-of date -#}
{%- set period_template = 'cast(floor(' ~ dbt.datediff('@date', 'analysis_date.as_of_date', 'day')
    ~ ' / ' ~ period_days ~ '.0) as ' ~ dbt.type_int() ~ ')' -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

-- the patient-day event counts the patient marts use (per event type, revenue)
event_days as (
    select * from {{ ref('int_patient_days_aggregated') }}
),

stages as (
    select * from {{ ref('int_care_journey_stages_ordered') }}
),

claims as (
    select * from {{ ref('int_claims_accepted') }}
),

calls as (
    select * from {{ ref('int_outreach_calls_classified') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

event_periods as (
    select
        event_days.patient_id,
        {{ period_template | replace('@date', 'event_days.activity_date') }} as period_index,
        sum(event_days.events) as events,
        count(*) as active_days,
        {%- for column in event_type_columns %}
            sum(event_days.{{ column }}) as {{ column }},
        {%- endfor %}
        sum(event_days.revenue_usd) as revenue,
        min(event_days.activity_date) as first_event_date,
        max(event_days.activity_date) as last_event_date
    from event_days
    cross join analysis_date
    group by
        event_days.patient_id,
        {{ period_template | replace('@date', 'event_days.activity_date') }}
),

call_periods as (
    select
        calls.patient_id,
        {{ period_template | replace('@date', 'cast(calls.called_at as date)') }} as period_index,
        count(*) as calls,
        sum(case when calls.is_engaged then 1 else 0 end) as engaged_calls,
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
        count(*) as claims,
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
        {{ period_template | replace('@date', 'stages.entered_date') }} as period_index,
        count(*) as stages_entered,
        max(stages.stage_order) as furthest_stage_entered,
        max(stages.entered_date) as last_stage_entered_date
    from stages
    cross join analysis_date
    group by
        stages.patient_id,
        {{ period_template | replace('@date', 'stages.entered_date') }}
),

stage_completion_periods as (
    select
        stages.patient_id,
        {{ period_template | replace('@date', 'stages.completed_date') }} as period_index,
        count(*) as stages_completed
    from stages
    cross join analysis_date
    where stages.is_completed
    group by
        stages.patient_id,
        {{ period_template | replace('@date', 'stages.completed_date') }}
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
    {{ carepulse.ml_period_offsets() }}
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
        {%- for column in event_type_columns %}
            cast(coalesce(event_periods.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        cast(coalesce(event_periods.revenue, 0) as {{ carepulse.type_money() }}) as revenue,
        event_periods.first_event_date,
        event_periods.last_event_date,
        cast(coalesce(call_periods.calls, 0) as {{ dbt.type_bigint() }}) as calls,
        cast(coalesce(call_periods.engaged_calls, 0) as {{ dbt.type_bigint() }}) as engaged_calls,
        call_periods.last_call_date,
        cast(coalesce(claim_periods.claims, 0) as {{ dbt.type_bigint() }}) as claims,
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
