{#- Model monitoring: realised ROC AUC and the population stability index, in SQL so the
    marts compute them where the predictions and outcomes live. -#}

{% macro roc_auc_by_group(relation, group_by, score, label) -%}
    {{ return(adapter.dispatch('roc_auc_by_group', 'carepulse')(relation, group_by, score, label)) }}
{%- endmacro %}

{#- Mann-Whitney: AUC = (sum of the positives' ranks - P(P+1)/2) / (P x N), ranks ascending by
    score with ties given their average rank (so a tie counts one half, as in sklearn's
    roc_auc_score). Window rank and count only: portable to any engine with window functions.
    Null when a group has no positive or no negative. -#}
{% macro default__roc_auc_by_group(relation, group_by, score, label) -%}
{%- set groups = group_by | join(', ') -%}
select
    {{ groups }},
    positives,
    negatives,
    case
        when positives = 0 or negatives = 0 then null
        else (positive_rank_sum - positives * (positives + 1) / 2.0) / (positives * 1.0 * negatives)
    end as roc_auc
from (
    select
        {{ groups }},
        sum(is_positive) as positives,
        count(*) - sum(is_positive) as negatives,
        sum(is_positive * (low_rank + (tied - 1) / 2.0)) as positive_rank_sum
    from (
        select
            {{ groups }},
            case when {{ label }} then 1 else 0 end as is_positive,
            rank() over (partition by {{ groups }} order by {{ score }}) as low_rank,
            count(*) over (partition by {{ groups }}, {{ score }}) as tied
        from {{ relation }}
    ) as ranked
    group by {{ groups }}
) as counted
{%- endmacro %}

{% macro psi_term(expected_share, actual_share, share_floor) -%}
    {{ return(adapter.dispatch('psi_term', 'carepulse')(expected_share, actual_share, share_floor)) }}
{%- endmacro %}

{#- One bin's term of the population stability index, (a - e) x ln(a / e), with both shares
    floored at share_floor so an empty bin is rare rather than infinitely surprising. -#}
{% macro default__psi_term(expected_share, actual_share, share_floor) -%}
    (greatest({{ actual_share }}, {{ share_floor }}) - greatest({{ expected_share }}, {{ share_floor }}))
    * ln(greatest({{ actual_share }}, {{ share_floor }}) / greatest({{ expected_share }}, {{ share_floor }}))
{%- endmacro %}
