{#- One row per accepted outreach call with what its outcome means (seed
    outreach_outcome_map, applied in int_outreach_calls_classified): the fact table of
    outreach calls and the call-grain base of the semantic model `outreach`, so a BI tool
    can ask for the engagement rate by call month or by patient attribute.
    marts.outreach_performance is the same calls aggregated by channel, program, hour and
    weekday; tests/test_semantic_layer.py checks that the two agree.
    Incremental (issue 13): a run rebuilds the call dates from var lookback_days before the
    latest call date loaded, whole dates at a time. -#}
{{ config(**carepulse.incremental_config('called_date', partition_column='called_date')) }}
{%- set recheck = ref('audit_outreach_calls_recheck') %}

with calls as (
    select * from {{ ref('int_outreach_calls_classified') }}
    {%- if is_incremental() %}
    where
        called_date >= {{ carepulse.incremental_start('called_date') }}
        -- and the whole dates of the rows the audit checked again (e.g. a late duplicate winner)
        or called_date in (select recheck.activity_date from {{ recheck }} as recheck)
    {%- endif %}
),

final as (
    select
        call_id,
        patient_id,
        called_at,
        called_date,
        channel,
        coalesce(program, 'unknown') as program,
        hour_of_day,
        iso_weekday,
        {{ carepulse.weekday_name('iso_weekday') }} as weekday_name,
        outcome,
        is_reached,
        is_engaged
    from calls
)

select * from final
