{#- Every churn risk band needs a '*' fallback row in seed outreach_interventions, so that
    a segment without its own row (renamed, new) still gets an action in outreach_priority.
    Returns the bands without one. -#}
with interventions as (
    select * from {{ ref('outreach_interventions') }}
),

bands as (
    select 'high' as churn_risk_band
    union all
    select 'medium' as churn_risk_band
    union all
    select 'low' as churn_risk_band
),

fallbacks as (
    select churn_risk_band
    from interventions
    where rfm_segment = '*'
),

final as (
    select bands.churn_risk_band
    from bands
    left join fallbacks
        on bands.churn_risk_band = fallbacks.churn_risk_band
    where fallbacks.churn_risk_band is null
)

select * from final
