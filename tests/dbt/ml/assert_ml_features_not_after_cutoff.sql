{#- Cheap in-warehouse guard against look-ahead: a feature row may not describe activity
    after its cutoff. Returns rows whose last activity, first event or tenure lies past
    the cutoff. (tests/test_ml.py holds the stronger check: rebuild on data cut at a
    cutoff and compare every feature.) -#}
with features as (
    select * from {{ ref('patient_features_by_cutoff') }}
),

final as (
    select
        patient_id,
        cutoff_date,
        last_active_date,
        days_since_first_event,
        tenure_days
    from features
    where
        last_active_date > cutoff_date
        or days_since_first_event < 0
        or tenure_days < 0
        or days_since_last_call < 0
        or days_since_last_claim < 0
        or days_since_stage_entered < 0
)

select * from final
