{#- The analysis date every mart is relative to, as a contracted one-row mart: what the ML
    step and the report read (int_as_of_date_resolved is the model the other models join;
    this is its published copy, one row, so it costs nothing). -#}
with resolved as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        as_of_date,
        as_of_source
    from resolved
)

select * from final
