{#- Two marts, one notion of "last activity": days_inactive of an active patient equals
    their RFM recency, and patients without events have no recency. -#}
with churn as (
    select * from {{ ref('patient_churn') }}
),

rfm as (
    select * from {{ ref('patient_rfm') }}
)

select
    churn.patient_id,
    churn.has_activity,
    churn.days_inactive,
    rfm.recency_days
from churn
inner join rfm
    on churn.patient_id = rfm.patient_id
where
    (churn.has_activity and (rfm.recency_days is null or churn.days_inactive <> rfm.recency_days))
    or (not churn.has_activity and rfm.recency_days is not null)
