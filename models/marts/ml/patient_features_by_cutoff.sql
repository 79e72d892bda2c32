{#- One row per patient and cutoff date (feature_cutoffs) for every patient enrolled by the
    cutoff: the churn model's features as of the end of the cutoff day.

    At a training cutoff (a period end of the calendar grid) each feature is a running
    aggregate over the patient's periods of ml_period_days that end on or before the cutoff
    (int_patient_periods_aggregated, ordered oldest first): `_total` takes every such
    period, `_<n>d` the last n / ml_period_days of them; which measure gets which windows
    is var ml_churn_feature_windows. Windows therefore end on the cutoff day (inclusive)
    and are exact to the day. No frame reaches a newer period, so the rows of a cutoff do
    not change when later data arrive (tests/test_ml.py checks this by rebuilding on data
    cut at a cutoff). At the scoring cutoff (the as-of date, which may fall inside a
    period) the lifetime features are the running aggregates of the period holding it
    (which has no data after the as-of date) and every `_<n>d` window is summed from the
    same activity by day (macro ml_patient_activity) over the n days ending on the
    as-of date: the same definitions, exact to the day.
    Set-based features live here; ratios and transforms are derived in ml/features.py,
    which takes the feature list from this model's YAML (meta.feature). -#}
{%- set horizon = var('churn_inactivity_days') -%}
{%- set window_features = carepulse.ml_churn_window_features() -%}
{%- set history = 'partition by periods.patient_id order by periods.period_index' -%}
{%- set lifetime = '(' ~ history ~ ' rows between unbounded preceding and current row)' -%}
{%- set as_of = '(select as_of_date from ' ~ ref('int_as_of_date_resolved') ~ ')' -%}
{#- the longest window in days: the scoring cutoff reads activity that far back -#}
{%- set ns = namespace(longest=var('ml_period_days')) -%}
{%- for feature in window_features if feature.days is not none and feature.days > ns.longest -%}
    {%- set ns.longest = feature.days -%}
{%- endfor -%}
with patients as (
    select * from {{ ref('int_patients_accepted') }}
),

periods as (
    select * from {{ ref('int_patient_periods_aggregated') }}
),

cutoffs as (
    select * from {{ ref('feature_cutoffs') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

-- the scoring cutoff's windows: the activity of the last days up to the as-of date
recent_days as (
    {{ carepulse.ml_patient_activity(
        bucket='@date',
        until=as_of,
        since='cast(' ~ dbt.dateadd('day', -1 * ns.longest, as_of) ~ ' as date)',
    ) }}
),

scoring_windows as (
    select
        {%- for feature in window_features if feature.days is not none %}
            {%- set window_start = dbt.dateadd('day', -1 * feature.days, 'analysis_date.as_of_date') %}
            sum(
                case
                    when recent_days.bucket > cast({{ window_start }} as date)
                        then recent_days.{{ feature.column }}
                end
            ) as scoring_{{ feature.name }},
        {%- endfor %}
        recent_days.patient_id
    from recent_days
    cross join analysis_date
    group by recent_days.patient_id
),

running as (
    select
        periods.patient_id,
        periods.period_index,
        periods.period_end_date,
        {%- for feature in window_features %}
            sum(periods.{{ feature.column }}) over (
                {{ history }} rows between {{ feature.frame }} and current row
            ) as {{ feature.name }},
        {%- endfor %}
        min(periods.first_event_date) over {{ lifetime }} as first_event_date,
        max(periods.last_event_date) over {{ lifetime }} as last_event_date,
        sum(periods.stages_entered) over {{ lifetime }} as stages_entered,
        sum(periods.stages_completed) over {{ lifetime }} as stages_completed,
        max(periods.furthest_stage_entered) over {{ lifetime }} as furthest_stage,
        max(periods.last_stage_entered_date) over {{ lifetime }} as last_stage_entered_date,
        max(periods.last_claim_date) over {{ lifetime }} as last_claim_date,
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
        {%- for feature in window_features if feature.days is not none %}
            scoring_windows.scoring_{{ feature.name }},
        {%- endfor %}
        coalesce(running.last_event_date, cast(patients.enrolled_at as date)) as last_active_date
    from running
    inner join cutoffs
        on running.period_index = cutoffs.period_index
    inner join patients
        on running.patient_id = patients.patient_id
    left join scoring_windows
        on
            cutoffs.is_scoring_cutoff
            and running.patient_id = scoring_windows.patient_id
    -- the period's end is its cutoff date (the scoring cutoff's period may end after it):
    -- compared with the period row rather than the cutoff, the planner joins the windowed
    -- periods to the cutoffs and the patients by their keys instead of pairing every
    -- patient with every cutoff first and joining 2 million wide period rows to that on
    -- two keys
    where
        cast(patients.enrolled_at as date) <= running.period_end_date
        and (not cutoffs.is_scoring_cutoff or cast(patients.enrolled_at as date) <= cutoffs.cutoff_date)
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
        cast(extract(month from cutoff_date) as {{ dbt.type_int() }}) as cutoff_month,
        {%- for feature in window_features %}
            cast(
                {%- if feature.days is not none %}
                    case
                        when is_scoring_cutoff then coalesce(scoring_{{ feature.name }}, 0)
                        else {{ feature.name }}
                    end
                {%- else %}
                    {{ feature.name }}
                {%- endif %}
                as {{ carepulse.type_double() if feature.is_amount else dbt.type_bigint() }}
            ) as {{ feature.name }},
        {%- endfor %}
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
        cast(
            {{ dbt.datediff('last_claim_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_claim,
        cast(
            {{ dbt.datediff('last_call_date', 'cutoff_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_last_call
    from patient_cutoffs
)

select * from final
