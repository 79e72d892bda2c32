{#- Each provider's accepted claims rolled up by calendar month of the claim date.
    The claim date is the end date: the day a claim is complete, the date recency is
    measured from, and the date the quarantine checks against the as-of date.
    The monthly grain lets every month-end snapshot reuse running totals instead of
    rescanning all claims.
    Incremental (issue 13): a run rebuilds the months from the one holding var lookback_days
    before the latest claim date loaded, whole months at a time; a patient's first month
    with a provider still comes from all of that provider's claims of the patient. -#}
{{ config(**carepulse.incremental_config('claim_month', partition_column='claim_month')) }}
{%- set recheck = ref('audit_claims_recheck') %}

with claims as (
    select * from {{ ref('int_claims_accepted') }}
),

dated_claims as (
    select
        provider_id,
        patient_id,
        claim_start_date,
        claim_end_date,
        paid_amount,
        cast({{ dbt.date_trunc('month', 'claim_end_date') }} as date) as claim_month
    from claims
),

patient_first_months as (
    -- distinct patients are additive over months when each counts in its first month only
    select
        provider_id,
        patient_id,
        min(claim_month) as first_claim_month
    from dated_claims
    group by provider_id, patient_id
),

new_patients as (
    select
        provider_id,
        first_claim_month as claim_month,
        count(*) as new_patients
    from patient_first_months
    group by provider_id, first_claim_month
),

monthly as (
    select
        provider_id,
        claim_month,
        count(*) as claim_count,
        sum(paid_amount) as revenue,
        min(claim_start_date) as first_claim_date,
        max(claim_end_date) as last_claim_date
    from dated_claims
    {%- if is_incremental() %}
    where
        claim_month >= {{ carepulse.incremental_start('last_claim_date', grain='month') }}
        -- and the whole months of the rows the audit checked again (e.g. a late duplicate winner)
        or claim_month in (
            select cast({{ dbt.date_trunc('month', 'recheck.activity_date') }} as date) from {{ recheck }} as recheck
        )
    {%- endif %}
    group by provider_id, claim_month
),

final as (
    select
        monthly.provider_id,
        monthly.claim_month,
        cast(monthly.claim_count as {{ dbt.type_bigint() }}) as claim_count,
        cast(coalesce(new_patients.new_patients, 0) as {{ dbt.type_bigint() }}) as new_patients,
        cast(monthly.revenue as decimal(18, 2)) as revenue,
        monthly.first_claim_date,
        monthly.last_claim_date
    from monthly
    left join new_patients
        on
            monthly.provider_id = new_patients.provider_id
            and monthly.claim_month = new_patients.claim_month
)

select * from final
