{#- Fails with one row per condition that is half filled in (a measure without an
    operator, threshold or kind, or the reverse) or whose percentile is outside 0-100. -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

final as (
    select
        segment,
        priority,
        measure,
        operator,
        threshold,
        threshold_kind
    from rules
    where
        (
            measure is null
            and (operator is not null or threshold is not null or threshold_kind is not null)
        )
        or (
            measure is not null
            and (operator is null or threshold is null or threshold_kind is null)
        )
        or (threshold_kind = 'percentile' and (threshold < 0 or threshold > 100))
)

select * from final
