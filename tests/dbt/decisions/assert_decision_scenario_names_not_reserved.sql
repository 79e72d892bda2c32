{#- The decision marts add scenarios of their own ('baseline' and 'vars' in funnel_what_if,
    'current_plan' in visit_plan_what_if); a seed row with one of those names would be
    mixed into them. Returns the offending seed rows. -#}
with funnel_scenarios as (
    select * from {{ ref('funnel_uplift_scenarios') }}
),

visit_plans as (
    select * from {{ ref('visit_plan_alternatives') }}
),

final as (
    select
        'funnel_uplift_scenarios' as seed_name,
        scenario
    from funnel_scenarios
    where scenario in ('baseline', 'vars')
    union all
    select
        'visit_plan_alternatives' as seed_name,
        scenario
    from visit_plans
    where scenario = 'current_plan'
)

select * from final
