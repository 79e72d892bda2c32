{#- Fails with one row per priority shared by several segments, or segment with several
    priorities: either makes "first match wins" ambiguous. -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

shared_priorities as (
    select
        'priority ' || cast(priority as {{ dbt.type_string() }}) || ' is used by several segments' as problem
    from rules
    group by priority
    having count(distinct segment) > 1
),

split_segments as (
    select segment || ' has several priorities' as problem
    from rules
    group by segment
    having count(distinct priority) > 1
),

final as (
    select problem from shared_priorities
    union all
    select problem from split_segments
)

select * from final
