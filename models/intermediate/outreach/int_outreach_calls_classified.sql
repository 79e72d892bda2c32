{#- Accepted outreach calls with what their outcome means (seed outreach_outcome_map:
    is_reached, is_engaged; an outcome missing from the map is neither) and the hour and
    ISO weekday they were made. The one place the outcome map is applied: the outreach
    marts, the semantic layer and the ML features all read it. -#}
with calls as (
    select * from {{ ref('int_outreach_calls_accepted') }}
),

outcome_map as (
    select * from {{ ref('outreach_outcome_map') }}
),

final as (
    select
        calls.call_id,
        calls.patient_id,
        calls.called_at,
        cast(calls.called_at as date) as called_date,
        calls.channel,
        calls.program,
        cast(extract(hour from calls.called_at) as {{ dbt.type_int() }}) as hour_of_day,
        cast({{ carepulse.iso_weekday('calls.called_at') }} as {{ dbt.type_int() }}) as iso_weekday,
        calls.outcome,
        coalesce(outcome_map.is_reached, false) as is_reached,
        coalesce(outcome_map.is_engaged, false) as is_engaged
    from calls
    left join outcome_map
        on calls.outcome = outcome_map.outcome
)

select * from final
