{#- Every condition of the segmentation rules seed at every snapshot date, with its
    threshold resolved to a number: an absolute threshold as written, a percentile
    threshold (0-100) as that percentile of the measure over the providers of the
    snapshot (continuous, linear interpolation between the two nearest ranks, as
    quantile_cont / percentile_cont; null values ignored). Ranks rather than a
    percentile aggregate because the percentile differs per rule row, and aggregates
    take a constant fraction. A condition whose threshold cannot be resolved (no values)
    keeps a null threshold, so it holds for nobody. -#}
with rules as (
    select * from {{ ref('provider_segment_rules') }}
),

snapshots as (
    select * from {{ ref('int_provider_snapshot_dates_generated') }}
),

measure_values as (
    select * from {{ ref('int_provider_measures_unpivoted') }}
),

conditions as (
    select
        segment,
        priority,
        measure,
        operator,
        threshold,
        threshold_kind
    from rules
    -- the catch-all segment has a single row without a condition
    where measure is not null
),

snapshot_conditions as (
    select
        snapshots.snapshot_date,
        conditions.segment,
        conditions.priority,
        conditions.measure,
        conditions.operator,
        conditions.threshold,
        conditions.threshold_kind
    from conditions
    cross join snapshots
),

percentile_requests as (
    -- a percentile depends only on the measure and the fraction, whichever rule asks
    select distinct
        measure,
        threshold
    from conditions
    where threshold_kind = 'percentile'
),

ranked_values as (
    select
        snapshot_date,
        measure,
        measure_value,
        row_number() over (partition by snapshot_date, measure order by measure_value) - 1 as value_rank,
        count(*) over (partition by snapshot_date, measure) as value_count
    from measure_values
    where
        measure_value is not null
        -- only the measures a percentile rule needs are ranked
        and measure in (select percentile_requests.measure from percentile_requests)
),

populations as (
    select
        snapshot_date,
        measure,
        max(value_count) as value_count
    from ranked_values
    group by snapshot_date, measure
),

percentile_positions as (
    -- 0-based fractional rank; exact for whole ranks (the product is computed before dividing)
    select
        populations.snapshot_date,
        percentile_requests.measure,
        percentile_requests.threshold,
        cast((populations.value_count - 1) * percentile_requests.threshold as double) / 100 as exact_rank
    from percentile_requests
    inner join populations
        on percentile_requests.measure = populations.measure
),

percentile_values as (
    select
        percentile_positions.snapshot_date,
        percentile_positions.measure,
        percentile_positions.threshold,
        lower_value.measure_value
        + (percentile_positions.exact_rank - floor(percentile_positions.exact_rank))
        * (upper_value.measure_value - lower_value.measure_value) as percentile_value
    from percentile_positions
    inner join ranked_values as lower_value
        on
            percentile_positions.snapshot_date = lower_value.snapshot_date
            and percentile_positions.measure = lower_value.measure
            and cast(floor(percentile_positions.exact_rank) as {{ dbt.type_bigint() }}) = lower_value.value_rank
    inner join ranked_values as upper_value
        on
            percentile_positions.snapshot_date = upper_value.snapshot_date
            and percentile_positions.measure = upper_value.measure
            and cast(ceil(percentile_positions.exact_rank) as {{ dbt.type_bigint() }}) = upper_value.value_rank
),

resolved as (
    select
        snapshot_conditions.snapshot_date,
        snapshot_conditions.segment,
        snapshot_conditions.priority,
        snapshot_conditions.measure,
        snapshot_conditions.operator,
        snapshot_conditions.threshold,
        snapshot_conditions.threshold_kind,
        case
            when snapshot_conditions.threshold_kind = 'absolute'
                then cast(snapshot_conditions.threshold as double)
            else percentile_values.percentile_value
        end as resolved_threshold
    from snapshot_conditions
    left join percentile_values
        on
            snapshot_conditions.snapshot_date = percentile_values.snapshot_date
            and snapshot_conditions.measure = percentile_values.measure
            and snapshot_conditions.threshold = percentile_values.threshold
            and snapshot_conditions.threshold_kind = 'percentile'
),

final as (
    select
        snapshot_date,
        segment,
        priority,
        measure,
        operator,
        threshold,
        threshold_kind,
        resolved_threshold,
        {{ dbt.concat([
            'measure', "' '", 'operator', "' '",
            "case when threshold_kind = 'percentile' then 'p' else '' end",
            carepulse.number_text('threshold'),
            "case when threshold_kind = 'percentile' then " ~ dbt.concat([
                "' ('", "coalesce(" ~ carepulse.number_text('resolved_threshold') ~ ", 'n/a')", "')'",
            ]) ~ " else '' end",
        ]) }} as condition_text
    from resolved
)

select * from final
