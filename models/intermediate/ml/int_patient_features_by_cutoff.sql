{#- One row per patient and cutoff date (int_ml_cutoffs) for every patient enrolled by the
    cutoff: the churn model's features as of the end of the cutoff day.

    Each feature is a running aggregate over the patient's 30-day periods that end on or
    before the cutoff (int_patient_activity_by_period, ordered oldest first): lifetime
    figures take every such period, `_30d` the cutoff's own period, `_90d` the last 3,
    `_180d` the last 6 and `_360d` the last 12. Windows therefore end on the cutoff day
    (inclusive) and are exact to the day. No frame reaches a newer period and nothing
    here reads the as-of date, so the rows of a cutoff do not change when later data
    arrives (tests/test_ml.py checks this by rebuilding on data cut at a cutoff).
    Set-based features live here; ratios and transforms are derived in ml/features.py. -#}
{%- set horizon = var('churn_inactivity_days') -%}
{%- set history = 'partition by periods.patient_id order by periods.period_index desc' -%}
{%- set lifetime = '(' ~ history ~ ' rows between unbounded preceding and current row)' -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

periods as (
    select * from {{ ref('int_patient_activity_by_period') }}
),

cutoffs as (
    select * from {{ ref('int_ml_cutoffs') }}
),

running as (
    select
        periods.patient_id,
        periods.period_index,
        sum(periods.events) over {{ lifetime }} as events_total,
        sum(periods.active_days) over {{ lifetime }} as active_days_total,
        periods.events as events_30d,
        sum(periods.events) over (
            {{ history }} rows between 2 preceding and current row
        ) as events_90d,
        sum(periods.events) over (
            {{ history }} rows between 5 preceding and current row
        ) as events_180d,
        periods.active_days as active_days_30d,
        sum(periods.active_days) over (
            {{ history }} rows between 2 preceding and current row
        ) as active_days_90d,
        sum(periods.logins) over (
            {{ history }} rows between 2 preceding and current row
        ) as logins_90d,
        sum(periods.telemedicine_visits) over (
            {{ history }} rows between 2 preceding and current row
        ) as telemedicine_visits_90d,
        sum(periods.medication_refills) over (
            {{ history }} rows between 2 preceding and current row
        ) as medication_refills_90d,
        sum(periods.health_tracking) over (
            {{ history }} rows between 2 preceding and current row
        ) as health_tracking_90d,
        sum(periods.education_content) over (
            {{ history }} rows between 2 preceding and current row
        ) as education_content_90d,
        sum(periods.messages) over (
            {{ history }} rows between 2 preceding and current row
        ) as messages_90d,
        sum(periods.revenue_usd) over (
            {{ history }} rows between 2 preceding and current row
        ) as revenue_90d,
        sum(periods.revenue_usd) over (
            {{ history }} rows between 11 preceding and current row
        ) as revenue_360d,
        sum(periods.revenue_usd) over {{ lifetime }} as revenue_total,
        min(periods.first_event_date) over {{ lifetime }} as first_event_date,
        max(periods.last_event_date) over {{ lifetime }} as last_event_date,
        sum(periods.stages_entered) over {{ lifetime }} as stages_entered,
        sum(periods.stages_completed) over {{ lifetime }} as stages_completed,
        max(periods.furthest_stage_entered) over {{ lifetime }} as furthest_stage,
        max(periods.last_stage_entered_date) over {{ lifetime }} as last_stage_entered_date,
        sum(periods.claims_ended) over {{ lifetime }} as claims_total,
        sum(periods.claims_ended) over (
            {{ history }} rows between 5 preceding and current row
        ) as claims_180d,
        sum(periods.paid_amount) over (
            {{ history }} rows between 11 preceding and current row
        ) as paid_amount_360d,
        max(periods.last_claim_date) over {{ lifetime }} as last_claim_date,
        sum(periods.calls) over {{ lifetime }} as calls_total,
        sum(periods.calls) over (
            {{ history }} rows between 2 preceding and current row
        ) as calls_90d,
        sum(periods.engaged_calls) over {{ lifetime }} as engaged_calls_total,
        max(periods.last_call_date) over {{ lifetime }} as last_call_date
    from periods
),

patient_cutoffs as (
    select
        running.*,
        cutoffs.cutoff_date,
        cutoffs.is_scoring_cutoff,
        cutoffs.is_labelled,
        patients.birth_year,
        patients.sex,
        patients.location_type,
        patients.primary_condition,
        patients.referral_source,
        patients.plan_type,
        cast(patients.enrolled_at as date) as enrolled_date,
        coalesce(running.last_event_date, cast(patients.enrolled_at as date)) as last_active_date
    from running
    inner join cutoffs
        on running.period_index = cutoffs.period_index
    inner join patients
        on running.patient_id = patients.patient_id
    where cast(patients.enrolled_at as date) <= cutoffs.cutoff_date
),

final as (
    select
        patient_id,
        cutoff_date,
        is_scoring_cutoff,
        is_labelled,
        (
            {{ dbt.datediff('last_active_date', 'cutoff_date', 'day') }}
        ) <= {{ horizon }} as is_active,
        last_active_date,
        cast(
            {{ dbt.datediff('last_active_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_inactive,
        sex,
        location_type,
        primary_condition,
        referral_source,
        plan_type,
        cast(extract(year from cutoff_date) - birth_year as {{ dbt.type_int() }}) as age_years,
        cast(
            {{ dbt.datediff('enrolled_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as tenure_days,
        cast(events_total as {{ dbt.type_bigint() }}) as events_total,
        cast(active_days_total as {{ dbt.type_bigint() }}) as active_days_total,
        cast(events_30d as {{ dbt.type_bigint() }}) as events_30d,
        cast(events_90d as {{ dbt.type_bigint() }}) as events_90d,
        cast(events_180d as {{ dbt.type_bigint() }}) as events_180d,
        cast(active_days_30d as {{ dbt.type_bigint() }}) as active_days_30d,
        cast(active_days_90d as {{ dbt.type_bigint() }}) as active_days_90d,
        cast(logins_90d as {{ dbt.type_bigint() }}) as logins_90d,
        cast(telemedicine_visits_90d as {{ dbt.type_bigint() }}) as telemedicine_visits_90d,
        cast(medication_refills_90d as {{ dbt.type_bigint() }}) as medication_refills_90d,
        cast(health_tracking_90d as {{ dbt.type_bigint() }}) as health_tracking_90d,
        cast(education_content_90d as {{ dbt.type_bigint() }}) as education_content_90d,
        cast(messages_90d as {{ dbt.type_bigint() }}) as messages_90d,
        cast(revenue_90d as {{ carepulse.type_double() }}) as revenue_90d,
        cast(revenue_360d as {{ carepulse.type_double() }}) as revenue_360d,
        cast(revenue_total as {{ carepulse.type_double() }}) as revenue_total,
        cast(
            {{ dbt.datediff('first_event_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_first_event,
        cast(stages_entered as {{ dbt.type_bigint() }}) as stages_entered,
        cast(stages_completed as {{ dbt.type_bigint() }}) as stages_completed,
        cast(furthest_stage as {{ dbt.type_int() }}) as furthest_stage,
        cast(
            {{ dbt.datediff('last_stage_entered_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_stage_entered,
        cast(claims_total as {{ dbt.type_bigint() }}) as claims_total,
        cast(claims_180d as {{ dbt.type_bigint() }}) as claims_180d,
        cast(paid_amount_360d as {{ carepulse.type_double() }}) as paid_amount_360d,
        cast(
            {{ dbt.datediff('last_claim_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_claim,
        cast(calls_total as {{ dbt.type_bigint() }}) as calls_total,
        cast(calls_90d as {{ dbt.type_bigint() }}) as calls_90d,
        cast(engaged_calls_total as {{ dbt.type_bigint() }}) as engaged_calls_total,
        cast(
            {{ dbt.datediff('last_call_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_call
    from patient_cutoffs
)

select * from final
