{#- When the as-of date is a month end, the history's last month end is the current
    picture: fails with one row per provider whose segment there differs from
    provider_segments. -#}
with history as (
    select * from {{ ref('provider_segment_history') }}
),

current_segments as (
    select * from {{ ref('provider_segments') }}
),

final as (
    select
        current_segments.provider_id,
        current_segments.segment,
        history.segment as history_segment
    from current_segments
    inner join history
        on
            current_segments.provider_id = history.provider_id
            and current_segments.as_of_date = history.month_end_date
    where
        current_segments.segment <> history.segment
        or current_segments.total_revenue <> history.total_revenue
        or current_segments.recency_days <> history.recency_days
)

select * from final
