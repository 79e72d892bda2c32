{#- The retention study's key findings, read off marts.churn_drivers (churn at the as-of
    date by patient attribute, with Wilson 95% intervals):
      1. the primary condition with the highest churn rate, against everyone else;
      2. the churn gap between rural and urban patients;
      3. the churn gap between patients referred by word of mouth and by a doctor.
    One row per finding. gap_points = (churn_rate - comparison_churn_rate) x 100; a gap
    is clear when the two 95% intervals do not overlap (intervals_overlap = false).
    Compile with `dbt compile --select retention_key_findings` and run the SQL in
    target/compiled, or paste it into any DuckDB client. -#}
with churn_drivers as (
    select * from {{ ref('churn_drivers') }}
),

groups as (
    select
        dimension,
        dimension_value,
        as_of_date,
        patients,
        churned_patients,
        churn_rate,
        churn_rate_ci_low,
        churn_rate_ci_high,
        overall_churn_rate,
        rest_churn_rate,
        relative_risk
    from churn_drivers
    where dimension <> 'overall'
),

conditions_ranked as (
    select
        *,
        row_number() over (order by churn_rate desc, dimension_value asc) as churn_rank
    from groups
    where dimension = 'primary_condition'
),

highest_churn_condition as (
    select
        'highest_churn_condition' as finding,
        1 as finding_order,
        dimension,
        dimension_value as group_value,
        'all other patients' as comparison_value,
        as_of_date,
        patients,
        churn_rate,
        churn_rate_ci_low,
        churn_rate_ci_high,
        rest_churn_rate as comparison_churn_rate,
        cast(null as double) as comparison_ci_low,
        cast(null as double) as comparison_ci_high,
        relative_risk
    from conditions_ranked
    where churn_rank = 1
),

paired_gaps as (
    select
        pairs.finding,
        pairs.finding_order,
        group_a.dimension,
        group_a.dimension_value as group_value,
        group_b.dimension_value as comparison_value,
        group_a.as_of_date,
        group_a.patients,
        group_a.churn_rate,
        group_a.churn_rate_ci_low,
        group_a.churn_rate_ci_high,
        group_b.churn_rate as comparison_churn_rate,
        group_b.churn_rate_ci_low as comparison_ci_low,
        group_b.churn_rate_ci_high as comparison_ci_high,
        group_a.churn_rate / nullif(group_b.churn_rate, 0) as relative_risk
    from (
        select
            'rural_vs_urban_gap' as finding,
            2 as finding_order,
            'location_type' as dimension,
            'rural' as value_a,
            'urban' as value_b
        union all
        select
            'word_of_mouth_vs_doctor_gap' as finding,
            3 as finding_order,
            'referral_source' as dimension,
            'word_of_mouth' as value_a,
            'doctor' as value_b
    ) as pairs
    inner join groups as group_a
        on
            pairs.dimension = group_a.dimension
            and pairs.value_a = group_a.dimension_value
    inner join groups as group_b
        on
            pairs.dimension = group_b.dimension
            and pairs.value_b = group_b.dimension_value
),

findings as (
    select * from highest_churn_condition
    union all
    select * from paired_gaps
),

final as (
    select
        finding_order,
        finding,
        dimension,
        group_value,
        comparison_value,
        as_of_date,
        patients,
        churn_rate,
        churn_rate_ci_low,
        churn_rate_ci_high,
        comparison_churn_rate,
        comparison_ci_low,
        comparison_ci_high,
        (churn_rate - comparison_churn_rate) * 100 as gap_points,
        relative_risk,
        -- null for the highest-churn condition: the mart has no interval for everyone else
        churn_rate_ci_low <= comparison_ci_high and comparison_ci_low <= churn_rate_ci_high
            as intervals_overlap
    from findings
)

select * from final
order by finding_order
