{#- RFM scores per accepted patient at the as-of date.
    recency_days: days since the last event (all time; null when the patient has none).
    frequency / monetary: events and revenue_usd in the rfm_window_days ending on the as-of date.
    Each is scored 1-5 by quintile, 5 best: patients are ordered best first (most recent,
    most frequent, highest spend; no events = least recent), ties by patient_id ascending,
    and cut into five groups whose sizes differ by at most one (the first groups take the
    remainder, so the top scores are the larger ones). rfm_segment comes from seed
    rfm_segment_map. -#}
with activity as (
    select * from {{ ref('int_patient_activity_summarised') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

measures as (
    select
        patient_id,
        as_of_date,
        {{ dbt.datediff('last_active_date', 'as_of_date', 'day') }}
            as recency_days,
        rfm_window_events as frequency,
        rfm_window_revenue_usd as monetary
    from activity
),

scored as (
    select
        *,
        -- ntile(5) in best-first order gives quintile 1 to the best; 6 - quintile turns it into 5 = best.
        6 - ntile(5) over (order by recency_days asc nulls last, patient_id asc) as r_score,
        6 - ntile(5) over (order by frequency desc, patient_id asc) as f_score,
        6 - ntile(5) over (order by monetary desc, patient_id asc) as m_score
    from measures
),

final as (
    select
        scored.patient_id,
        scored.as_of_date,
        cast(scored.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(scored.frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(scored.monetary as {{ carepulse.type_money() }}) as monetary,
        cast(scored.r_score as {{ dbt.type_int() }}) as r_score,
        cast(scored.f_score as {{ dbt.type_int() }}) as f_score,
        cast(scored.m_score as {{ dbt.type_int() }}) as m_score,
        segment_map.rfm_cell,
        segment_map.rfm_segment
    from scored
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score
            and scored.m_score = segment_map.m_score
)

select * from final
