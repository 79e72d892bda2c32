{#- Each age from 0 to 130 must fall in exactly one band of seed patient_age_bands
    (bounds inclusive, empty max_age = open top band): no gaps, no overlaps. -#}
with age_bands as (
    select * from {{ ref('patient_age_bands') }}
),

ages as (
    select generated_number - 1 as age from ({{ dbt.generate_series(131) }}) as numbers
),

matches as (
    select
        ages.age,
        count(age_bands.age_band) as bands
    from ages
    left join age_bands
        on
            ages.age >= age_bands.min_age
            and (ages.age <= age_bands.max_age or age_bands.max_age is null)
    group by ages.age
)

select * from matches
where bands <> 1
