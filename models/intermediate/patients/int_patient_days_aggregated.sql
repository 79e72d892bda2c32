{#- Patient x activity day: the one scan of the engagement event table that the patient
    marts share (fct_engagement_events aside). Every window (RFM, engagement score,
    churn, months) is a day range, so the day grain answers all of them exactly. -#}
with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
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
