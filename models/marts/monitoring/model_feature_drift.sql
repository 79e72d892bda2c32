{{ config(tags=['post_ml']) }}

{#- Population stability index per feature between each run's training frame and every
    frame it scored: ml.feature_baselines holds the training frame's bins (deciles of a
    numeric feature, categories of a categorical one, and a missing bin) and shares;
    ml.feature_distributions the scored batch's shares in the same bins.
        PSI = sum over bins of (scoring - training) x ln(scoring / training)
    with shares floored at var psi_share_floor (macro psi_term). The drift level uses the
    common reading of PSI: below psi_moderate_from (0.1) stable, from psi_major_from (0.25)
    major, moderate between (vars). -#}
{%- set share_floor = var('psi_share_floor') -%}
with baselines as (
    select * from {{ source('ml', 'feature_baselines') }}
),

distributions as (
    select * from {{ source('ml', 'feature_distributions') }}
),

bins as (
    select
        distributions.run_id,
        distributions.model_name,
        distributions.as_of_date,
        distributions.feature,
        baselines.feature_kind,
        baselines.bin_index,
        baselines.training_rows,
        baselines.training_share,
        distributions.scoring_rows,
        distributions.scoring_share,
        {{ carepulse.psi_term('baselines.training_share', 'distributions.scoring_share', share_floor) }} as psi_term
    from distributions
    inner join baselines
        on distributions.run_id = baselines.run_id
            and distributions.model_name = baselines.model_name
            and distributions.feature = baselines.feature
            and distributions.bin_index = baselines.bin_index
),

features as (
    select
        run_id,
        model_name,
        as_of_date,
        feature,
        feature_kind,
        count(*) as bins,
        sum(training_rows) as training_rows,
        sum(scoring_rows) as scoring_rows,
        sum(psi_term) as psi,
        max(abs(scoring_share - training_share)) as max_share_shift
    from bins
    group by
        run_id,
        model_name,
        as_of_date,
        feature,
        feature_kind
),

final as (
    select
        run_id,
        model_name,
        as_of_date,
        feature,
        feature_kind,
        cast(bins as {{ dbt.type_int() }}) as bins,
        cast(training_rows as {{ dbt.type_bigint() }}) as training_rows,
        cast(scoring_rows as {{ dbt.type_bigint() }}) as scoring_rows,
        cast(round(psi, 6) as {{ carepulse.type_double() }}) as psi,
        cast(round(max_share_shift, 6) as {{ carepulse.type_double() }}) as max_share_shift,
        case
            when psi >= {{ var('psi_major_from') }} then 'major'
            when psi >= {{ var('psi_moderate_from') }} then 'moderate'
            else 'stable'
        end as drift_level
    from features
)

select * from final
