{#- One row per outreach call (anchor_type 'observed_call', the engagement model's training
    examples) plus one hypothetical next call per channel for every patient active at the
    as-of date (anchor_type 'next_call', what the model scores). Both kinds get the same
    features from the same SQL, computed only from data strictly before the call time:
    member attributes, the call's channel, program, hour and weekday, prior call history
    and recent activity. A call's own outcome is its label, never a feature.
    The next call is placed on the first weekday after the as-of date at the most common
    call hour, with the patient's latest program (else the most common one for their
    condition). call_weekday is the ISO weekday minus one (0 = Monday), the numbering the
    model was trained with. What an outcome means comes from seed outreach_outcome_map
    (int_outreach_calls_classified); the windows are vars ml_call_history_days,
    ml_call_activity_windows and ml_call_activity_lookback_days.
    Incremental (issue 13): an observed call's features read only data before the call, so
    a run recomputes only the calls from var lookback_days before the latest observed call
    loaded (late calls and events change the calls after them, which are that recent) and
    replaces every next_call row (the pre-hook drops the last run's: a patient no longer
    active must lose them), plus every call of a patient with an older event or call whose
    verdict the audit checked again (audit_*_recheck); older calls' rows stay as computed. -#}
{{ config(
    pre_hook="{% if is_incremental() %}delete from {{ this }} where anchor_type = 'next_call'{% endif %}",
    **carepulse.incremental_config('anchor_id')
) }}
{%- set start = carepulse.incremental_start("case when anchor_type = 'observed_call' then called_at end") %}
{%- set events_recheck = ref('audit_engagement_events_recheck') %}
{%- set calls_recheck = ref('audit_outreach_calls_recheck') %}
{%- set history_days = var('ml_call_history_days') -%}
{%- set activity_windows = var('ml_call_activity_windows') -%}
{#- recent activity looks this far back before a call (days_since_last_event is null beyond) -#}
{%- set lookback_days = var('ml_call_activity_lookback_days') -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

calls as (
    select * from {{ ref('int_outreach_calls_classified') }}
),

patient_features as (
    select * from {{ ref('patient_features_by_cutoff') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

channels as (
    select allowed_value as channel
    from {{ ref('raw_value_domains') }}
    where source_table = 'outreach_calls' and column_name = 'channel'
),

hour_counts as (
    select
        hour_of_day as call_hour,
        count(*) as calls
    from calls
    group by hour_of_day
),

typical_hour as (
    select coalesce(max(call_hour), {{ var('ml_next_call_default_hour') }}) as call_hour
    from (
        select
            call_hour,
            row_number() over (order by calls desc, call_hour asc) as hour_rank
        from hour_counts
    ) as ranked_hours
    where hour_rank = 1
),

next_call_day as (
    select
        as_of_date,
        {{ carepulse.days_to_next_weekday('as_of_date') }} as days_ahead
    from analysis_date
),

next_call_slot as (
    select
        cast(
            {{ dbt.dateadd(
                'hour',
                'typical_hour.call_hour',
                'cast(' ~ dbt.dateadd('day', 'next_call_day.days_ahead', 'next_call_day.as_of_date') ~ ' as timestamp)'
            ) }}
            as timestamp
        ) as called_at
    from next_call_day
    cross join typical_hour
),

condition_programs as (
    select
        patients.primary_condition,
        calls.program,
        row_number() over (
            partition by patients.primary_condition
            order by count(*) desc, calls.program asc
        ) as program_rank
    from calls
    inner join patients
        on calls.patient_id = patients.patient_id
    group by
        patients.primary_condition,
        calls.program
),

latest_programs as (
    select
        patient_id,
        program,
        row_number() over (partition by patient_id order by called_at desc, call_id desc) as call_rank
    from calls
),

active_patients as (
    select patient_features.patient_id
    from patient_features
    where
        patient_features.is_scoring_cutoff
        and patient_features.is_active
),

next_calls as (
    select
        {{ dbt.concat(["'next:'", 'active_patients.patient_id', "':'", 'channels.channel']) }} as anchor_id,
        'next_call' as anchor_type,
        active_patients.patient_id,
        next_call_slot.called_at,
        channels.channel,
        coalesce(latest_programs.program, condition_programs.program) as program,
        cast(null as {{ dbt.type_string() }}) as outcome,
        cast(null as {{ dbt.type_boolean() }}) as is_engaged
    from active_patients
    cross join channels
    cross join next_call_slot
    inner join patients
        on active_patients.patient_id = patients.patient_id
    left join latest_programs
        on
            active_patients.patient_id = latest_programs.patient_id
            and latest_programs.call_rank = 1
    left join condition_programs
        on
            patients.primary_condition = condition_programs.primary_condition
            and condition_programs.program_rank = 1
),

observed_calls as (
    select
        call_id as anchor_id,
        'observed_call' as anchor_type,
        patient_id,
        called_at,
        channel,
        program,
        outcome,
        is_engaged
    from calls
    {%- if is_incremental() %}
    where
        called_at >= {{ start }}
        -- and every call of the patients with an event or call the audit checked again before
        -- that (e.g. a late duplicate winner): their later calls' features read it
        or patient_id in (
            select recheck.patient_id from {{ events_recheck }} as recheck
            where recheck.activity_date < {{ start }}
            union all
            select recheck.patient_id from {{ calls_recheck }} as recheck
            where recheck.activity_date < {{ start }}
        )
    {%- endif %}
),

anchors as (
    select * from observed_calls
    union all
    select * from next_calls
),

prior_calls as (
    select
        anchors.anchor_id,
        count(*) as prior_calls,
        sum(case when calls.is_engaged then 1 else 0 end) as prior_engaged_calls,
        sum(case when calls.channel = anchors.channel then 1 else 0 end) as prior_calls_same_channel,
        sum(
            case when calls.channel = anchors.channel and calls.is_engaged then 1 else 0 end
        ) as prior_engaged_same_channel,
        sum(
            case
                when calls.called_at >= {{ dbt.dateadd('day', -history_days, 'anchors.called_at') }} then 1 else 0
            end
        ) as prior_calls_{{ history_days }}d,
        max(calls.called_at) as last_call_at
    from anchors
    inner join calls
        on
            anchors.patient_id = calls.patient_id
            and anchors.called_at > calls.called_at
    group by anchors.anchor_id
),

last_call_outcomes as (
    select
        anchors.anchor_id,
        max(case when calls.is_engaged then 1 else 0 end) as last_call_engaged
    from anchors
    inner join prior_calls
        on anchors.anchor_id = prior_calls.anchor_id
    inner join calls
        on
            anchors.patient_id = calls.patient_id
            and prior_calls.last_call_at = calls.called_at
    group by anchors.anchor_id
),

recent_activity as (
    select
        anchors.anchor_id,
        {%- for days in activity_windows %}
            sum(
                case
                    when events.event_at >= {{ dbt.dateadd('day', -days, 'anchors.called_at') }} then 1 else 0
                end
            ) as events_{{ days }}d,
        {%- endfor %}
        max(events.event_at) as last_event_at
    from anchors
    inner join events
        on
            anchors.patient_id = events.patient_id
            and anchors.called_at > events.event_at
            and {{ dbt.dateadd('day', -lookback_days, 'anchors.called_at') }} <= events.event_at
    group by anchors.anchor_id
),

joined as (
    select
        anchors.anchor_id,
        anchors.anchor_type,
        anchors.patient_id,
        anchors.called_at,
        cast(anchors.called_at as date) as call_date,
        anchors.channel,
        anchors.program,
        anchors.outcome,
        anchors.is_engaged,
        patients.sex,
        patients.location_type,
        patients.primary_condition,
        patients.referral_source,
        patients.plan_type,
        patients.birth_year,
        cast(patients.enrolled_at as date) as enrolled_date,
        coalesce(prior_calls.prior_calls, 0) as prior_calls,
        coalesce(prior_calls.prior_engaged_calls, 0) as prior_engaged_calls,
        coalesce(prior_calls.prior_calls_same_channel, 0) as prior_calls_same_channel,
        coalesce(prior_calls.prior_engaged_same_channel, 0) as prior_engaged_same_channel,
        coalesce(prior_calls.prior_calls_{{ history_days }}d, 0) as prior_calls_{{ history_days }}d,
        coalesce(last_call_outcomes.last_call_engaged, 0) as last_call_engaged,
        cast(prior_calls.last_call_at as date) as last_call_date,
        {%- for days in activity_windows %}
            coalesce(recent_activity.events_{{ days }}d, 0) as events_{{ days }}d,
        {%- endfor %}
        cast(recent_activity.last_event_at as date) as last_event_date
    from anchors
    inner join patients
        on anchors.patient_id = patients.patient_id
    left join prior_calls
        on anchors.anchor_id = prior_calls.anchor_id
    left join last_call_outcomes
        on anchors.anchor_id = last_call_outcomes.anchor_id
    left join recent_activity
        on anchors.anchor_id = recent_activity.anchor_id
),

final as (
    select
        anchor_id,
        anchor_type,
        patient_id,
        called_at,
        channel,
        program,
        outcome,
        is_engaged,
        cast(extract(hour from called_at) as {{ dbt.type_int() }}) as call_hour,
        cast({{ carepulse.iso_weekday('called_at') }} - 1 as {{ dbt.type_int() }}) as call_weekday,
        sex,
        location_type,
        primary_condition,
        referral_source,
        plan_type,
        cast(extract(year from called_at) - birth_year as {{ dbt.type_int() }}) as age_years,
        cast(
            {{ dbt.datediff('enrolled_date', 'call_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as tenure_days,
        cast(prior_calls as {{ dbt.type_bigint() }}) as prior_calls,
        cast(prior_engaged_calls as {{ dbt.type_bigint() }}) as prior_engaged_calls,
        cast(prior_calls_same_channel as {{ dbt.type_bigint() }}) as prior_calls_same_channel,
        cast(prior_engaged_same_channel as {{ dbt.type_bigint() }}) as prior_engaged_same_channel,
        cast(prior_calls_{{ history_days }}d as {{ dbt.type_bigint() }}) as prior_calls_{{ history_days }}d,
        cast(last_call_engaged as {{ dbt.type_int() }}) as last_call_engaged,
        cast(
            {{ dbt.datediff('last_call_date', 'call_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_call,
        {%- for days in activity_windows %}
            cast(events_{{ days }}d as {{ dbt.type_bigint() }}) as events_{{ days }}d,
        {%- endfor %}
        cast(
            {{ dbt.datediff('last_event_date', 'call_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_event
    from joined
)

select * from final
