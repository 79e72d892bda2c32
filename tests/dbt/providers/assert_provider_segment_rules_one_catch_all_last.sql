{#- Fails unless exactly one segment has no conditions (the catch-all, so every provider
    gets a segment), it is a single row, and no other segment comes after it (it would
    never match). -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

segments as (
    select
        segment,
        min(priority) as priority,
        count(*) as rule_rows,
        sum(case when measure is null then 1 else 0 end) as catch_all_rows
    from rules
    group by segment
),

catch_alls as (
    select
        segment,
        priority,
        rule_rows
    from segments
    where catch_all_rows > 0
),

problems as (
    select 'there is no catch-all segment (a row without a condition)' as problem
    from (select count(*) as catch_all_count from catch_alls) as counted
    where counted.catch_all_count = 0
    union all
    select 'there are several catch-all segments' as problem
    from (select count(*) as catch_all_count from catch_alls) as counted
    where counted.catch_all_count > 1
    union all
    select catch_alls.segment || ' mixes a catch-all row with conditions' as problem
    from catch_alls
    where catch_alls.rule_rows > 1
    union all
    select segments.segment || ' comes after the catch-all and can never match' as problem
    from segments
    inner join catch_alls
        on segments.priority > catch_alls.priority
),

final as (
    select problem from problems
)

select * from final
