{#- Fails with one row per pair of ICD-10-CM chapters whose category ranges overlap or
    per range that ends before it starts: a code must map to one chapter at most. -#}
with chapters as (
    select * from {{ ref('icd10cm_chapters') }}
),

final as (
    select
        earlier.chapter_number,
        later.chapter_number as overlapping_chapter_number
    from chapters as earlier
    inner join chapters as later
        on
            earlier.chapter_number < later.chapter_number
            and earlier.first_category <= later.last_category
            and earlier.last_category >= later.first_category
    union all
    select
        chapter_number,
        null as overlapping_chapter_number
    from chapters
    where first_category > last_category
)

select * from final
