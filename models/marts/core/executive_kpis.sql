{#- The executive KPIs: one row per calendar month (period_type 'month', from the first
    month with a patient to the as-of month) and one row for the as-of date (period_type
    'as_of', the executive_kpis_window_days ending on it).

    Stocks are measured at period_end (the month's last day, or the as-of date for the
    as-of month and the as-of row):
      patients          accepted patients with a row in int_patient_months_aggregated for
                        the month (enrolled, or first active, on or before it)
      churned_patients  the patient_churn rule applied at period_end: more than
                        churn_inactivity_days since the last event on or before period_end
                        (or since enrolment without one)
      churn_rate        churned_patients / patients
    Flows are counted within [period_start, period_end]: active_patients (at least one
    engagement event), revenue_usd (engagement revenue), outreach calls and engaged calls.
    avg_engagement_score is the mean of patient_engagement_score, which is defined at the
    as-of date only (its depth is a rank among patients on that date), so it is filled on
    the as-of row and null on month rows. -#}
{%- set churn_days = var('churn_inactivity_days') %}
{%- set window_days = var('executive_kpis_window_days') %}

with patient_months as (
    select * from {{ ref('int_patient_months_aggregated') }}
),

daily_activity as (
    select * from {{ ref('int_patient_days_aggregated') }}
),

patients as (
    select * from {{ ref('int_patients_profiled') }}
),

patient_churn as (
    select * from {{ ref('patient_churn') }}
),

engagement_scores as (
    select * from {{ ref('patient_engagement_score') }}
),

calls as (
    select * from {{ ref('fct_outreach_calls') }}
),

analysis_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

month_last_activity as (
    select
        patient_id,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month,
        max(activity_date) as last_active_date_in_month
    from daily_activity
    group by patient_id, cast({{ dbt.date_trunc('month', 'activity_date') }} as date)
),

patient_month_status as (
    select
        patient_months.patient_id,
        patient_months.activity_month,
        patient_months.is_active,
        patient_months.revenue_usd,
        patients.enrolled_date,
        case
            when patient_months.is_as_of_month then analysis_date.as_of_date
            else cast({{ dbt.last_day('patient_months.activity_month', 'month') }} as date)
        end as period_end,
        max(month_last_activity.last_active_date_in_month) over (
            partition by patient_months.patient_id
            order by patient_months.activity_month
            rows between unbounded preceding and current row
        ) as last_active_date
    from patient_months
    inner join patients
        on patient_months.patient_id = patients.patient_id
    left join month_last_activity
        on
            patient_months.patient_id = month_last_activity.patient_id
            and patient_months.activity_month = month_last_activity.activity_month
    cross join analysis_date
),

month_patients as (
    select
        activity_month as period_start,
        max(period_end) as period_end,
        count(*) as patients,
        sum(case when is_active then 1 else 0 end) as active_patients,
        sum(
            case
                when {{ dbt.datediff('coalesce(last_active_date, enrolled_date)', 'period_end', 'day') }}
                    > {{ churn_days }} then 1
                else 0
            end
        ) as churned_patients,
        sum(revenue_usd) as revenue_usd
    from patient_month_status
    group by activity_month
),

month_calls as (
    select
        cast({{ dbt.date_trunc('month', 'called_date') }} as date) as period_start,
        count(*) as outreach_calls,
        sum(case when is_engaged then 1 else 0 end) as outreach_engaged
    from calls
    group by cast({{ dbt.date_trunc('month', 'called_date') }} as date)
),

month_rows as (
    select
        'month' as period_type,
        month_patients.period_start,
        month_patients.period_end,
        month_patients.period_end < cast({{ dbt.last_day('month_patients.period_start', 'month') }} as date)
            as is_partial_period,
        month_patients.patients,
        month_patients.active_patients,
        month_patients.churned_patients,
        month_patients.revenue_usd,
        cast(null as {{ carepulse.type_double() }}) as avg_engagement_score,
        coalesce(month_calls.outreach_calls, 0) as outreach_calls,
        coalesce(month_calls.outreach_engaged, 0) as outreach_engaged
    from month_patients
    left join month_calls
        on month_patients.period_start = month_calls.period_start
),

as_of_window as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1 - window_days, 'as_of_date') }} as date) as period_start
    from analysis_date
),

window_activity as (
    select
        count(distinct daily_activity.patient_id) as active_patients,
        sum(daily_activity.revenue_usd) as revenue_usd
    from daily_activity
    cross join as_of_window
    where daily_activity.activity_date between as_of_window.period_start and as_of_window.as_of_date
),

window_calls as (
    select
        count(*) as outreach_calls,
        sum(case when calls.is_engaged then 1 else 0 end) as outreach_engaged
    from calls
    cross join as_of_window
    where calls.called_date between as_of_window.period_start and as_of_window.as_of_date
),

churn_at_as_of as (
    select
        count(*) as patients,
        sum(case when is_churned then 1 else 0 end) as churned_patients
    from patient_churn
),

scores as (
    -- an exact sum: a parallel sum of doubles differs in the last bits between runs
    select {{ exact_sum('engagement_score') }} / count(engagement_score) as avg_engagement_score
    from engagement_scores
),

as_of_row as (
    select
        'as_of' as period_type,
        as_of_window.period_start,
        as_of_window.as_of_date as period_end,
        false as is_partial_period,
        churn_at_as_of.patients,
        coalesce(window_activity.active_patients, 0) as active_patients,
        coalesce(churn_at_as_of.churned_patients, 0) as churned_patients,
        coalesce(window_activity.revenue_usd, 0) as revenue_usd,
        cast(scores.avg_engagement_score as {{ carepulse.type_double() }}) as avg_engagement_score,
        coalesce(window_calls.outreach_calls, 0) as outreach_calls,
        coalesce(window_calls.outreach_engaged, 0) as outreach_engaged
    from as_of_window
    cross join window_activity
    cross join window_calls
    cross join churn_at_as_of
    cross join scores
),

all_rows as (
    select * from month_rows
    union all
    select * from as_of_row
),

final as (
    select
        all_rows.period_type,
        cast(all_rows.period_start as date) as period_start,
        cast(all_rows.period_end as date) as period_end,
        all_rows.is_partial_period,
        analysis_date.as_of_date,
        cast(all_rows.patients as {{ dbt.type_bigint() }}) as patients,
        cast(all_rows.active_patients as {{ dbt.type_bigint() }}) as active_patients,
        cast(all_rows.churned_patients as {{ dbt.type_bigint() }}) as churned_patients,
        {{ carepulse.safe_ratio('all_rows.churned_patients', 'all_rows.patients') }} as churn_rate,
        cast(all_rows.revenue_usd as {{ carepulse.type_money() }}) as revenue_usd,
        all_rows.avg_engagement_score,
        cast(all_rows.outreach_calls as {{ dbt.type_bigint() }}) as outreach_calls,
        cast(all_rows.outreach_engaged as {{ dbt.type_bigint() }}) as outreach_engaged,
        {{ carepulse.safe_ratio('all_rows.outreach_engaged', 'all_rows.outreach_calls') }}
            as outreach_engagement_rate
    from all_rows
    cross join analysis_date
)

select * from final
