{#- One row per patient and calendar period of ml_period_days (30) days (period p ends on
    var ml_cutoff_anchor_date + 30 p, macro ml_period_index), from the period of enrolment
    or first activity up to the period holding the as-of date. Every row has the patient's
    events, calls, ended claims and journey stage entries/completions dated in that period
    and on or before the as-of date (macro ml_patient_activity), zero when none: the
    newest period is partial until the grid passes it. Dense on purpose: the cutoff
    features are then running sums over consecutive rows (window functions), one pass over
    the data instead of a join of every activity day to every later cutoff. -#}
{%- set event_type_columns = carepulse.engagement_event_type_columns() -%}
{%- set as_of = '(select as_of_date from ' ~ ref('int_as_of_date_resolved') ~ ')' -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

activity as (
    {{ carepulse.ml_patient_activity(bucket=carepulse.ml_period_index('@date'), until=as_of) }}
),

analysis_date as (
    select
        as_of_date,
        {{ carepulse.ml_period_index('as_of_date') }} as as_of_period_index
    from {{ ref('int_as_of_date_resolved') }}
),

-- one row per patient and period (the sources' rows of a period combined)
activity_periods as (
    select
        patient_id,
        bucket as period_index,
        sum(events) as events,
        sum(active_days) as active_days,
        {%- for column in event_type_columns %}
            sum({{ column }}) as {{ column }},
        {%- endfor %}
        sum(revenue) as revenue,
        min(first_event_date) as first_event_date,
        max(last_event_date) as last_event_date,
        sum(calls) as calls,
        sum(engaged_calls) as engaged_calls,
        max(last_call_date) as last_call_date,
        sum(claims) as claims,
        sum(paid_amount) as paid_amount,
        max(last_claim_date) as last_claim_date,
        sum(stages_entered) as stages_entered,
        max(furthest_stage_entered) as furthest_stage_entered,
        max(last_stage_entered_date) as last_stage_entered_date,
        sum(stages_completed) as stages_completed
    from activity
    group by patient_id, bucket
),

enrolment_periods as (
    select
        patients.patient_id,
        {{ carepulse.ml_period_index('cast(patients.enrolled_at as date)') }} as period_index
    from patients
    cross join analysis_date
    where cast(patients.enrolled_at as date) <= analysis_date.as_of_date
),

-- the oldest period with enrolment or any activity: the dense grid starts there
patient_spans as (
    select
        patient_id,
        min(period_index) as first_period_index
    from (
        select
            patient_id,
            period_index
        from enrolment_periods
        union all
        select
            patient_id,
            period_index
        from activity_periods
    ) as patient_period_indexes
    group by patient_id
),

periods as (
    {{ carepulse.ml_period_offsets() }}
),

patient_periods as (
    select
        patient_spans.patient_id,
        cast(analysis_date.as_of_period_index - periods.periods_back as {{ dbt.type_int() }}) as period_index
    from patient_spans
    cross join analysis_date
    inner join periods
        on patient_spans.first_period_index <= analysis_date.as_of_period_index - periods.periods_back
),

final as (
    select
        patient_periods.patient_id,
        patient_periods.period_index,
        {{ carepulse.ml_period_end_date('patient_periods.period_index') }} as period_end_date,
        cast(coalesce(activity_periods.events, 0) as {{ dbt.type_bigint() }}) as events,
        cast(coalesce(activity_periods.active_days, 0) as {{ dbt.type_bigint() }}) as active_days,
        {%- for column in event_type_columns %}
            cast(coalesce(activity_periods.{{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column }},
        {%- endfor %}
        cast(coalesce(activity_periods.revenue, 0) as {{ carepulse.type_money() }}) as revenue,
        activity_periods.first_event_date,
        activity_periods.last_event_date,
        cast(coalesce(activity_periods.calls, 0) as {{ dbt.type_bigint() }}) as calls,
        cast(coalesce(activity_periods.engaged_calls, 0) as {{ dbt.type_bigint() }}) as engaged_calls,
        activity_periods.last_call_date,
        cast(coalesce(activity_periods.claims, 0) as {{ dbt.type_bigint() }}) as claims,
        cast(coalesce(activity_periods.paid_amount, 0) as {{ carepulse.type_money() }}) as paid_amount,
        activity_periods.last_claim_date,
        cast(coalesce(activity_periods.stages_entered, 0) as {{ dbt.type_bigint() }}) as stages_entered,
        cast(coalesce(activity_periods.furthest_stage_entered, 0) as {{ dbt.type_int() }})
            as furthest_stage_entered,
        activity_periods.last_stage_entered_date,
        cast(coalesce(activity_periods.stages_completed, 0) as {{ dbt.type_bigint() }}) as stages_completed
    from patient_periods
    left join activity_periods
        on
            patient_periods.patient_id = activity_periods.patient_id
            and patient_periods.period_index = activity_periods.period_index
)

select * from final
