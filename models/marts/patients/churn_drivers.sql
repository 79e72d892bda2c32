{#- Churn rate by patient attribute, long format: one row per (dimension, dimension_value)
    plus one 'overall' row. For each group: Wilson 95% interval of the rate, the gap to the
    overall rate in percentage points, and the relative risk against every patient outside
    the group (the usual epidemiological reference). Missing attribute values are 'unknown'. -#}
{%- set dimensions = ['primary_condition', 'location_type', 'referral_source', 'age_band', 'plan_type', 'sex'] %}

with churn as (
    select * from {{ ref('patient_churn') }}
),

patients as (
    select * from {{ ref('int_patients_profiled') }}
),

patient_churn_attributes as (
    select
        churn.patient_id,
        churn.is_churned,
        churn.as_of_date,
        {% for dimension in dimensions %}
            coalesce(cast(patients.{{ dimension }} as {{ dbt.type_string() }}), 'unknown') as {{ dimension }},
        {% endfor %}
        'overall' as overall
    from churn
    inner join patients
        on churn.patient_id = patients.patient_id
),

grouped as (
    {% for dimension in ['overall'] + dimensions %}
        select
            '{{ dimension }}' as dimension,
            {{ dimension }} as dimension_value,
            max(as_of_date) as as_of_date,
            count(*) as patients,
            sum(case when is_churned then 1 else 0 end) as churned_patients
        from patient_churn_attributes
        group by {{ dimension }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

overall as (
    select
        patients as overall_patients,
        churned_patients as overall_churned_patients,
        {{ carepulse.safe_ratio('churned_patients', 'patients') }} as overall_churn_rate
    from grouped
    where dimension = 'overall'
),

rated as (
    select
        grouped.dimension,
        grouped.dimension_value,
        grouped.as_of_date,
        grouped.patients,
        grouped.churned_patients,
        overall.overall_patients,
        overall.overall_churn_rate,
        {{ carepulse.safe_ratio('grouped.churned_patients', 'grouped.patients') }} as churn_rate,
        {{ carepulse.safe_ratio(
            'overall.overall_churned_patients - grouped.churned_patients',
            'overall.overall_patients - grouped.patients',
        ) }} as rest_churn_rate
    from grouped
    cross join overall
),

final as (
    select
        dimension,
        dimension_value,
        as_of_date,
        cast(patients as {{ dbt.type_bigint() }}) as patients,
        cast(churned_patients as {{ dbt.type_bigint() }}) as churned_patients,
        {{ carepulse.safe_ratio('patients', 'overall_patients') }} as share_of_patients,
        churn_rate,
        {{ carepulse.wilson_interval_bound('churned_patients', 'patients', 'low') }} as churn_rate_ci_low,
        {{ carepulse.wilson_interval_bound('churned_patients', 'patients', 'high') }} as churn_rate_ci_high,
        overall_churn_rate,
        cast((churn_rate - overall_churn_rate) * 100 as {{ carepulse.type_double() }}) as diff_vs_overall,
        rest_churn_rate,
        {{ carepulse.safe_ratio('churn_rate', 'rest_churn_rate') }} as relative_risk
    from rated
)

select * from final
