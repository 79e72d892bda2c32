{#- The segment of each provider at each snapshot date: the segment with the lowest
    priority whose conditions all hold (AND within a segment; first match wins). The
    rules are rows of the seed provider_segment_rules joined to the measures, so no
    segment name or threshold is written here. A condition holds only when its measure
    value and resolved threshold are both known; a segment without conditions (the
    catch-all) matches every provider. -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

measures as (
    select * from {{ ref('int_provider_measures_snapshotted') }}
),

measure_values as (
    select * from {{ ref('int_provider_measures_unpivoted') }}
),

thresholds as (
    select * from {{ ref('int_provider_segment_thresholds_resolved') }}
),

segments as (
    select
        segment,
        min(priority) as priority
    from rules
    group by segment
),

provider_conditions as (
    select
        measures.snapshot_date,
        measures.provider_id,
        thresholds.segment,
        {{ carepulse.segment_condition_holds(
            'measure_values.measure_value', 'thresholds.operator', 'thresholds.resolved_threshold'
        ) }} as condition_holds
    from measures
    inner join thresholds
        on measures.snapshot_date = thresholds.snapshot_date
    left join measure_values
        on
            measures.snapshot_date = measure_values.snapshot_date
            and measures.provider_id = measure_values.provider_id
            and thresholds.measure = measure_values.measure
),

failed_segments as (
    select distinct
        snapshot_date,
        provider_id,
        segment
    from provider_conditions
    where not coalesce(condition_holds, false)
),

matched_segments as (
    select
        measures.snapshot_date,
        measures.provider_id,
        segments.segment,
        segments.priority,
        row_number() over (
            partition by measures.snapshot_date, measures.provider_id
            order by segments.priority, segments.segment
        ) as match_order
    from measures
    cross join segments
    left join failed_segments
        on
            measures.snapshot_date = failed_segments.snapshot_date
            and measures.provider_id = failed_segments.provider_id
            and segments.segment = failed_segments.segment
    where failed_segments.segment is null
),

segment_rules as (
    -- the placing rule as text, thresholds resolved for the snapshot
    select
        snapshot_date,
        segment,
        {{ carepulse.sorted_string_agg('condition_text', "' and '") }} as segment_rule
    from thresholds
    group by snapshot_date, segment
),

final as (
    select
        matched_segments.snapshot_date,
        matched_segments.provider_id,
        matched_segments.segment,
        cast(matched_segments.priority as {{ dbt.type_int() }}) as segment_priority,
        coalesce(segment_rules.segment_rule, 'no conditions (catch-all)') as segment_rule
    from matched_segments
    left join segment_rules
        on
            matched_segments.snapshot_date = segment_rules.snapshot_date
            and matched_segments.segment = segment_rules.segment
    where matched_segments.match_order = 1
)

select * from final
