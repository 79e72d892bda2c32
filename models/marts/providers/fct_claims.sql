{#- One row per accepted outpatient claim, with its ICD-10-CM chapter. claim_date is the
    end date (the day the claim is complete): every provider measure dates claims by it.
    Incremental (issue 13): a run rebuilds the claim dates from var lookback_days before the
    latest claim date loaded, whole dates at a time (a claim ending earlier than that and
    arriving late needs --full-refresh). -#}
{{ config(**carepulse.incremental_config('claim_date', partition_column='claim_date')) }}
{%- set recheck = ref('audit_claims_recheck') %}

with claims as (
    select * from {{ ref('int_claims_accepted') }}
    {%- if is_incremental() %}
    where
        claim_end_date >= {{ carepulse.incremental_start('claim_date') }}
        -- and the whole dates of the rows the audit checked again (e.g. a late duplicate winner)
        or claim_end_date in (select recheck.activity_date from {{ recheck }} as recheck)
    {%- endif %}
),

chapters as (
    select * from {{ ref('icd10cm_chapters') }}
),

claims_with_chapter as (
    select
        claims.claim_id,
        claims.claim_end_date as claim_date,
        claims.claim_start_date,
        claims.claim_end_date,
        claims.provider_id,
        claims.patient_id,
        claims.paid_amount,
        claims.deductible_amount,
        claims.diagnosis_code,
        chapters.chapter_number as diagnosis_chapter,
        chapters.chapter_title as diagnosis_chapter_title,
        claims.procedure_code
    from claims
    -- the category (first three characters) falls in one chapter's category range
    left join chapters
        on substring(claims.diagnosis_code, 1, 3) between chapters.first_category and chapters.last_category
),

final as (
    select
        claim_id,
        claim_date,
        claim_start_date,
        claim_end_date,
        provider_id,
        patient_id,
        paid_amount,
        deductible_amount,
        diagnosis_code,
        diagnosis_chapter,
        diagnosis_chapter_title,
        procedure_code
    from claims_with_chapter
)

select * from final
