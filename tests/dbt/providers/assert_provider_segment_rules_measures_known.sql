{#- Fails with one row per rule whose measure is not a numeric column of
    provider_performance (the list segmentation unpivots: provider_segment_measures()). -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

final as (
    select
        segment,
        priority,
        measure
    from rules
    where
        measure is not null
        and measure not in ('{{ carepulse.provider_segment_measures() | join("', '") }}')  -- noqa: LT05
)

select * from final
