{{ config(materialized='view', schema='marts') }}

{#- One row per accepted outreach call with what its outcome means (seed
    outreach_outcome_map): the call-grain base of the semantic model `outreach`, so a BI
    tool can ask for the engagement rate by call month or by patient attribute.
    marts.outreach_performance is the same calls aggregated by channel, program, hour and
    weekday; tests/test_semantic_layer.py checks that the two agree. -#}
with calls as (
    select * from {{ ref('int_outreach_calls_accepted') }}
),

outcome_map as (
    select * from {{ ref('outreach_outcome_map') }}
),

classified_calls as (
    select
        calls.call_id,
        calls.patient_id,
        calls.called_at,
        cast(calls.called_at as date) as called_date,
        calls.channel,
        coalesce(calls.program, 'unknown') as program,
        cast(extract(hour from calls.called_at) as {{ dbt.type_int() }}) as hour_of_day,
        cast({{ carepulse.iso_weekday('calls.called_at') }} as {{ dbt.type_int() }}) as iso_weekday,
        calls.outcome,
        coalesce(outcome_map.is_reached, false) as is_reached,
        coalesce(outcome_map.is_engaged, false) as is_engaged
    from calls
    left join outcome_map
        on calls.outcome = outcome_map.outcome
),

final as (
    select
        call_id,
        patient_id,
        called_at,
        called_date,
        channel,
        program,
        hour_of_day,
        iso_weekday,
        {{ carepulse.weekday_name('iso_weekday') }} as weekday_name,
        outcome,
        is_reached,
        is_engaged
    from classified_calls
)

select * from final
