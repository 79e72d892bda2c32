{#- Every one of the 125 (r, f, m) score cells must map to exactly one segment, and
    rfm_cell must spell its scores; otherwise some patients get no (or two) segments. -#}
with segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

scores as (
    {{ dbt.generate_series(5) }}
),

cells as (
    select
        -- whole numbers: dbt's generate_series yields doubles on some engines (Spark: 1.0)
        cast(r.generated_number as {{ dbt.type_int() }}) as r_score,
        cast(f.generated_number as {{ dbt.type_int() }}) as f_score,
        cast(m.generated_number as {{ dbt.type_int() }}) as m_score
    from scores as r
    cross join scores as f
    cross join scores as m
),

mapped as (
    select
        cells.r_score,
        cells.f_score,
        cells.m_score,
        count(segment_map.rfm_cell) as mappings,
        sum(
            case
                when segment_map.rfm_cell = {{ dbt.concat([
                    dbt.safe_cast('cells.r_score', dbt.type_string()),
                    dbt.safe_cast('cells.f_score', dbt.type_string()),
                    dbt.safe_cast('cells.m_score', dbt.type_string()),
                ]) }} then 0
                else 1
            end
        ) as misspelt_cells
    from cells
    left join segment_map
        on
            cells.r_score = segment_map.r_score
            and cells.f_score = segment_map.f_score
            and cells.m_score = segment_map.m_score
    group by cells.r_score, cells.f_score, cells.m_score
)

select * from mapped
where mappings <> 1 or misspelt_cells > 0
