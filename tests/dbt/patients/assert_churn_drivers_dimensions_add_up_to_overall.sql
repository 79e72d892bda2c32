{#- Each dimension of churn_drivers partitions the patients: its groups add up to the
    overall row, so no patient is lost or counted twice by a join or a null value. -#}
with drivers as (
    select * from {{ ref('churn_drivers') }}
),

overall as (
    select
        patients,
        churned_patients
    from drivers
    where dimension = 'overall'
),

dimension_totals as (
    select
        dimension,
        sum(patients) as patients,
        sum(churned_patients) as churned_patients
    from drivers
    where dimension <> 'overall'
    group by dimension
)

select
    dimension_totals.dimension,
    dimension_totals.patients,
    dimension_totals.churned_patients,
    overall.patients as overall_patients,
    overall.churned_patients as overall_churned_patients
from dimension_totals
cross join overall
where
    dimension_totals.patients <> overall.patients
    or dimension_totals.churned_patients <> overall.churned_patients
