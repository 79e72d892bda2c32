{{ config(tags=['post_ml']) }}

{#- Likely future Champions (study 004's next step): the providers of the segments in var
    champion_candidate_segments (Rising Stars, Standard) at the latest month end of
    provider_segment_history, with the champion model's probability of reaching the top
    segment within the next quarter (ml.provider_champion_predictions_current), ranked
    (1 = most likely), and what moving up would mean in revenue, from the segments'
    average revenue per provider (segment_roi):

        revenue_uplift_if_champion = top segment's avg revenue - own segment's avg revenue
        expected_revenue_uplift    = champion_probability x revenue_uplift_if_champion

    Built by the post_ml selector, after `python -m ml score`. -#}
{%- set candidate_segments = var('champion_candidate_segments') -%}
with predictions as (
    select * from {{ source('ml', 'provider_champion_predictions_current') }}
),

segment_roi as (
    select * from {{ ref('segment_roi') }}
),

providers as (
    select * from {{ ref('dim_providers') }}
),

top_priority as (
    select min(segment_priority) as segment_priority from segment_roi
),

top_segment as (
    select
        segment_roi.segment as top_segment,
        segment_roi.avg_revenue_per_provider as top_segment_avg_revenue
    from segment_roi
    inner join top_priority
        on segment_roi.segment_priority = top_priority.segment_priority
),

candidates as (
    select
        predictions.*,
        segment_roi.avg_revenue_per_provider as segment_avg_revenue,
        top_segment.top_segment,
        top_segment.top_segment_avg_revenue
    from predictions
    inner join segment_roi
        on predictions.segment = segment_roi.segment
    cross join top_segment
    where predictions.segment in (
            {%- for segment in candidate_segments %}
                '{{ segment }}'{{ ',' if not loop.last }}
            {%- endfor %}
        )
),

final as (
    select
        candidates.provider_id,
        candidates.as_of_date,
        candidates.month_end_date,
        candidates.segment,
        providers.specialty,
        providers.state,
        round(candidates.probability, 6) as champion_probability,
        cast(
            row_number() over (order by candidates.probability desc, candidates.provider_id asc)
            as {{ dbt.type_int() }}
        ) as likelihood_rank,
        candidates.risk_decile as likelihood_decile,
        candidates.top_factor_1,
        candidates.top_factor_2,
        candidates.top_factor_3,
        candidates.top_factors,
        candidates.top_segment,
        cast(candidates.segment_avg_revenue as {{ carepulse.type_double() }}) as segment_avg_revenue,
        cast(candidates.top_segment_avg_revenue as {{ carepulse.type_double() }}) as top_segment_avg_revenue,
        cast(
            round(candidates.top_segment_avg_revenue - candidates.segment_avg_revenue, 2)
            as {{ carepulse.type_double() }}
        ) as revenue_uplift_if_champion,
        round(
            candidates.probability
            * cast(
                candidates.top_segment_avg_revenue - candidates.segment_avg_revenue as {{ carepulse.type_double() }}
            ),
            2
        ) as expected_revenue_uplift,
        candidates.run_id,
        candidates.estimator
    from candidates
    inner join providers
        on candidates.provider_id = providers.provider_id
)

select * from final
