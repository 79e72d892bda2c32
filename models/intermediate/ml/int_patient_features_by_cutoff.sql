{#- One row per patient and cutoff date (int_ml_cutoffs) for every patient enrolled by the
    cutoff: the churn model's features, computed only from data dated on or before the
    cutoff day. Events, stages, calls and claims are filtered by the cutoff in each join;
    nothing here reads the as-of date, so the rows of a cutoff do not change when later
    data arrives (tests/test_ml.py checks this by rebuilding on data cut at a cutoff).
    Set-based features live here; ratios and transforms are derived in ml/features.py. -#}
{%- set horizon = var('churn_inactivity_days') -%}
{%- set event_types = [
    ('login', 'logins'),
    ('telemedicine_visit', 'telemedicine_visits'),
    ('medication_refill', 'medication_refills'),
    ('health_tracking', 'health_tracking'),
    ('education_content', 'education_content'),
    ('message', 'messages'),
] -%}
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

cutoffs as (
    select * from {{ ref('int_ml_cutoffs') }}
),

patient_cutoffs as (
    select
        patients.patient_id,
        patients.birth_year,
        patients.sex,
        patients.location_type,
        patients.primary_condition,
        patients.referral_source,
        patients.plan_type,
        cast(patients.enrolled_at as date) as enrolled_date,
        cutoffs.cutoff_date,
        cutoffs.is_scoring_cutoff,
        cutoffs.is_labelled
    from patients
    cross join cutoffs
    where cast(patients.enrolled_at as date) <= cutoffs.cutoff_date
),

-- one row per patient and active day: the range joins below scan days, not events
event_days as (
    select
        patient_id,
        cast(event_at as date) as event_date,
        count(*) as events,
        {%- for event_type, alias in event_types %}
        sum(case when event_type = '{{ event_type }}' then 1 else 0 end) as {{ alias }},
        {%- endfor %}
        sum(revenue_usd) as revenue_usd
    from events
    group by
        patient_id,
        cast(event_at as date)
),

event_history as (
    select
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date,
        count(*) as active_days_total,
        sum(event_days.events) as events_total,
        {%- for days in [7, 30, 90, 180] %}
        sum(
            case
                when event_days.event_date > {{ dbt.dateadd('day', -days, 'patient_cutoffs.cutoff_date') }}
                    then event_days.events
                else 0
            end
        ) as events_{{ days }}d,
        {%- endfor %}
        {%- for days in [30, 90] %}
        sum(
            case
                when event_days.event_date > {{ dbt.dateadd('day', -days, 'patient_cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as active_days_{{ days }}d,
        {%- endfor %}
        {%- for event_type, alias in event_types %}
        sum(
            case
                when event_days.event_date > {{ dbt.dateadd('day', -90, 'patient_cutoffs.cutoff_date') }}
                    then event_days.{{ alias }}
                else 0
            end
        ) as {{ alias }}_90d,
        {%- endfor %}
        sum(
            case
                when event_days.event_date > {{ dbt.dateadd('day', -90, 'patient_cutoffs.cutoff_date') }}
                    then event_days.revenue_usd
                else 0
            end
        ) as revenue_90d,
        sum(
            case
                when event_days.event_date > {{ dbt.dateadd('day', -365, 'patient_cutoffs.cutoff_date') }}
                    then event_days.revenue_usd
                else 0
            end
        ) as revenue_365d,
        sum(event_days.revenue_usd) as revenue_total,
        min(event_days.event_date) as first_event_date,
        max(event_days.event_date) as last_event_date
    from patient_cutoffs
    inner join event_days
        on
            patient_cutoffs.patient_id = event_days.patient_id
            and event_days.event_date <= patient_cutoffs.cutoff_date
    group by
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date
),

stage_history as (
    select
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date,
        count(*) as stages_entered,
        sum(
            case when cast(stages.completed_at as date) <= patient_cutoffs.cutoff_date then 1 else 0 end
        ) as stages_completed,
        max(
            case stages.stage
                when 'screening' then 1
                when 'diagnosis' then 2
                when 'treatment' then 3
                when 'follow_up' then 4
            end
        ) as furthest_stage,
        max(cast(stages.entered_at as date)) as last_stage_entered_date
    from patient_cutoffs
    inner join stages
        on
            patient_cutoffs.patient_id = stages.patient_id
            and cast(stages.entered_at as date) <= patient_cutoffs.cutoff_date
    group by
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date
),

-- a claim is known once it has ended
claim_history as (
    select
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date,
        count(*) as claims_total,
        sum(
            case
                when claims.claim_end_date > {{ dbt.dateadd('day', -180, 'patient_cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as claims_180d,
        sum(
            case
                when claims.claim_end_date > {{ dbt.dateadd('day', -365, 'patient_cutoffs.cutoff_date') }}
                    then claims.paid_amount
                else 0
            end
        ) as paid_amount_365d,
        max(claims.claim_end_date) as last_claim_date
    from patient_cutoffs
    inner join claims
        on
            patient_cutoffs.patient_id = claims.patient_id
            and claims.claim_end_date <= patient_cutoffs.cutoff_date
    group by
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date
),

call_history as (
    select
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date,
        count(*) as calls_total,
        sum(
            case
                when cast(calls.called_at as date) > {{ dbt.dateadd('day', -90, 'patient_cutoffs.cutoff_date') }}
                    then 1
                else 0
            end
        ) as calls_90d,
        sum(case when calls.outcome = 'engaged' then 1 else 0 end) as engaged_calls_total,
        max(cast(calls.called_at as date)) as last_call_date
    from patient_cutoffs
    inner join calls
        on
            patient_cutoffs.patient_id = calls.patient_id
            and cast(calls.called_at as date) <= patient_cutoffs.cutoff_date
    group by
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date
),

joined as (
    select
        patient_cutoffs.patient_id,
        patient_cutoffs.cutoff_date,
        patient_cutoffs.is_scoring_cutoff,
        patient_cutoffs.is_labelled,
        patient_cutoffs.sex,
        patient_cutoffs.location_type,
        patient_cutoffs.primary_condition,
        patient_cutoffs.referral_source,
        patient_cutoffs.plan_type,
        extract(year from patient_cutoffs.cutoff_date) - patient_cutoffs.birth_year as age_years,
        {{ dbt.datediff('patient_cutoffs.enrolled_date', 'patient_cutoffs.cutoff_date', 'day') }} as tenure_days,
        coalesce(event_history.last_event_date, patient_cutoffs.enrolled_date) as last_active_date,
        cast(coalesce(event_history.events_total, 0) as {{ dbt.type_bigint() }}) as events_total,
        cast(coalesce(event_history.active_days_total, 0) as {{ dbt.type_bigint() }}) as active_days_total,
        {%- for days in [7, 30, 90, 180] %}
        cast(coalesce(event_history.events_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as events_{{ days }}d,
        {%- endfor %}
        cast(coalesce(event_history.active_days_30d, 0) as {{ dbt.type_bigint() }}) as active_days_30d,
        cast(coalesce(event_history.active_days_90d, 0) as {{ dbt.type_bigint() }}) as active_days_90d,
        {%- for event_type, alias in event_types %}
        cast(coalesce(event_history.{{ alias }}_90d, 0) as {{ dbt.type_bigint() }}) as {{ alias }}_90d,
        {%- endfor %}
        cast(coalesce(event_history.revenue_90d, 0) as {{ carepulse.type_double() }}) as revenue_90d,
        cast(coalesce(event_history.revenue_365d, 0) as {{ carepulse.type_double() }}) as revenue_365d,
        cast(coalesce(event_history.revenue_total, 0) as {{ carepulse.type_double() }}) as revenue_total,
        {{ dbt.datediff('event_history.first_event_date', 'patient_cutoffs.cutoff_date', 'day') }}
            as days_since_first_event,
        cast(coalesce(stage_history.stages_entered, 0) as {{ dbt.type_bigint() }}) as stages_entered,
        cast(coalesce(stage_history.stages_completed, 0) as {{ dbt.type_bigint() }}) as stages_completed,
        cast(coalesce(stage_history.furthest_stage, 0) as {{ dbt.type_bigint() }}) as furthest_stage,
        {{ dbt.datediff('stage_history.last_stage_entered_date', 'patient_cutoffs.cutoff_date', 'day') }}
            as days_since_stage_entered,
        cast(coalesce(claim_history.claims_total, 0) as {{ dbt.type_bigint() }}) as claims_total,
        cast(coalesce(claim_history.claims_180d, 0) as {{ dbt.type_bigint() }}) as claims_180d,
        cast(coalesce(claim_history.paid_amount_365d, 0) as {{ carepulse.type_double() }}) as paid_amount_365d,
        {{ dbt.datediff('claim_history.last_claim_date', 'patient_cutoffs.cutoff_date', 'day') }}
            as days_since_last_claim,
        cast(coalesce(call_history.calls_total, 0) as {{ dbt.type_bigint() }}) as calls_total,
        cast(coalesce(call_history.calls_90d, 0) as {{ dbt.type_bigint() }}) as calls_90d,
        cast(coalesce(call_history.engaged_calls_total, 0) as {{ dbt.type_bigint() }}) as engaged_calls_total,
        {{ dbt.datediff('call_history.last_call_date', 'patient_cutoffs.cutoff_date', 'day') }}
            as days_since_last_call
    from patient_cutoffs
    left join event_history
        on
            patient_cutoffs.patient_id = event_history.patient_id
            and patient_cutoffs.cutoff_date = event_history.cutoff_date
    left join stage_history
        on
            patient_cutoffs.patient_id = stage_history.patient_id
            and patient_cutoffs.cutoff_date = stage_history.cutoff_date
    left join claim_history
        on
            patient_cutoffs.patient_id = claim_history.patient_id
            and patient_cutoffs.cutoff_date = claim_history.cutoff_date
    left join call_history
        on
            patient_cutoffs.patient_id = call_history.patient_id
            and patient_cutoffs.cutoff_date = call_history.cutoff_date
),

final as (
    select
        patient_id,
        cutoff_date,
        is_scoring_cutoff,
        is_labelled,
        {{ dbt.datediff('last_active_date', 'cutoff_date', 'day') }} <= {{ horizon }} as is_active,
        last_active_date,
        {{ dbt.datediff('last_active_date', 'cutoff_date', 'day') }} as days_inactive,
        sex,
        location_type,
        primary_condition,
        referral_source,
        plan_type,
        age_years,
        tenure_days,
        events_total,
        active_days_total,
        events_7d,
        events_30d,
        events_90d,
        events_180d,
        active_days_30d,
        active_days_90d,
        {%- for event_type, alias in event_types %}
        {{ alias }}_90d,
        {%- endfor %}
        revenue_90d,
        revenue_365d,
        revenue_total,
        days_since_first_event,
        stages_entered,
        stages_completed,
        furthest_stage,
        days_since_stage_entered,
        claims_total,
        claims_180d,
        paid_amount_365d,
        days_since_last_claim,
        calls_total,
        calls_90d,
        engaged_calls_total,
        days_since_last_call
    from joined
)

select * from final
