{#- target_risk_bands of seed intervention_scenario_assumptions is a '|'-separated list
    of churn risk bands (high, medium, low); a misspelt band would silently target nobody.
    Returns the scenarios whose list holds anything else, or nothing. -#}
with assumptions as (
    select * from {{ ref('intervention_scenario_assumptions') }}
),

final as (
    select
        scenario,
        target_risk_bands
    from assumptions
    where
        replace(replace(replace(replace(target_risk_bands, 'medium', ''), 'high', ''), 'low', ''), '|', '') <> ''
        or replace(target_risk_bands, '|', '') = ''
)

select * from final
