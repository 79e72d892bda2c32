{#- Outreach attempts and their results by channel, program, hour of day and ISO weekday
    (the hour and weekday of called_at as recorded). engagement_rate = engaged attempts /
    attempts, the outreach study's central figure, with its Wilson 95% interval.
    Member counts are distinct within a row, so they do not add up across rows; attempts
    and engaged do. What counts as reached or engaged comes from seed outreach_outcome_map
    (int_outreach_calls_classified). -#}
with classified_calls as (
    select * from {{ ref('int_outreach_calls_classified') }}
),

grouped as (
    select
        channel,
        coalesce(program, 'unknown') as program,
        hour_of_day,
        iso_weekday,
        count(*) as attempts,
        count(distinct patient_id) as members_attempted,
        count(distinct case when is_reached then patient_id end) as members_reached,
        sum(case when is_reached then 1 else 0 end) as reached,
        sum(case when is_engaged then 1 else 0 end) as engaged,
        count(distinct case when is_engaged then patient_id end) as members_engaged
    from classified_calls
    group by channel, coalesce(program, 'unknown'), hour_of_day, iso_weekday
),

final as (
    select
        channel,
        program,
        hour_of_day,
        iso_weekday,
        {{ carepulse.weekday_name('iso_weekday') }} as weekday_name,
        cast(attempts as {{ dbt.type_bigint() }}) as attempts,
        cast(members_attempted as {{ dbt.type_bigint() }}) as members_attempted,
        cast(reached as {{ dbt.type_bigint() }}) as reached,
        cast(members_reached as {{ dbt.type_bigint() }}) as members_reached,
        cast(engaged as {{ dbt.type_bigint() }}) as engaged,
        cast(members_engaged as {{ dbt.type_bigint() }}) as members_engaged,
        {{ carepulse.safe_ratio('reached', 'attempts') }} as reach_rate,
        {{ carepulse.safe_ratio('engaged', 'attempts') }} as engagement_rate,
        {{ carepulse.wilson_interval_bound('engaged', 'attempts', 'low') }} as engagement_rate_ci_low,
        {{ carepulse.wilson_interval_bound('engaged', 'attempts', 'high') }} as engagement_rate_ci_high
    from grouped
)

select * from final
