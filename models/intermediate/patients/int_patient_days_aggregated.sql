{#- Patient x activity day: the one scan of the engagement event table that the patient
    marts share (fct_engagement_events aside). Every window (RFM, engagement score,
    churn, months) is a day range, so the day grain answers all of them exactly.
    Incremental (issue 13): a run rebuilds the days from var lookback_days before the latest
    activity date loaded, whole days at a time. -#}
{{ config(**carepulse.incremental_config('activity_date', partition_column='activity_date')) }}
{%- set recheck = ref('audit_engagement_events_recheck') %}

with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
    {%- if is_incremental() %}
    where
        cast(event_at as date) >= {{ carepulse.incremental_start('activity_date') }}
        -- and the whole dates of the rows the audit checked again (e.g. a late duplicate winner)
        or cast(event_at as date) in (select recheck.activity_date from {{ recheck }} as recheck)
    {%- endif %}
),

dated as (
    select
        patient_id,
        cast(event_at as date) as activity_date,
        event_type,
        revenue_usd
    from events
),

final as (
    select
        patient_id,
        activity_date,
        cast(count(*) as {{ dbt.type_bigint() }}) as events,
        {% for event_type in carepulse.engagement_event_types() %}
            cast(sum(case when event_type = '{{ event_type }}' then 1 else 0 end) as {{ dbt.type_bigint() }})
                as {{ event_type }}_events,
        {% endfor %}
        cast(coalesce(sum(revenue_usd), 0) as {{ carepulse.type_money() }}) as revenue_usd
    from dated
    group by patient_id, activity_date
)

select * from final
