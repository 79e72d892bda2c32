{#- Each RFM score splits the patients into five groups whose sizes differ by at most one
    (ties are broken by patient_id, so ties cannot unbalance the quintiles). -#}
with rfm as (
    select * from {{ ref('patient_rfm') }}
),

group_sizes as (
    {% for score in ['r_score', 'f_score', 'm_score'] %}
        select
            '{{ score }}' as score,
            {{ score }} as score_value,
            count(*) as patients
        from rfm
        group by {{ score }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

spread as (
    select
        score,
        count(*) as score_values,
        min(patients) as smallest_group,
        max(patients) as largest_group
    from group_sizes
    group by score
),

totals as (
    select count(*) as patients from rfm
)

select spread.*
from spread
cross join totals
where
    spread.largest_group - spread.smallest_group > 1
    or (totals.patients >= 5 and spread.score_values <> 5)
