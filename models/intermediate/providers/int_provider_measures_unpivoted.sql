{#- Provider measures in long form (snapshot, provider, measure, value), so the
    segmentation rules, which name a measure as data, can be joined to the values
    instead of being written as SQL per rule. Numeric measures (see
    provider_segment_measures()), only those the rules seed uses. -#}
with measures as (
    select * from {{ ref('int_provider_measures_snapshotted') }}
),

rules as (
    select * from {{ ref('provider_segment_rules') }}
),

measure_values as (
    {% for measure in carepulse.provider_segment_measures() %}
        select
            snapshot_date,
            provider_id,
            '{{ measure }}' as measure,
            cast({{ measure }} as double) as measure_value
        from measures
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        snapshot_date,
        provider_id,
        measure,
        measure_value
    from measure_values
    where measure in (select rules.measure from rules)
)

select * from final
