{#- The engagement score is 0-100 only when its three weights sum to 1. -#}
with weights as (
    select * from {{ ref('engagement_score_weights') }}
),

totals as (
    select
        count(*) as components,
        sum(weight) as total_weight
    from weights
)

select * from totals
where components <> 3 or abs(total_weight - 1) > 0.000001
