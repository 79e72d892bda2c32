{#- The claim rows an incremental build audits again (issue 13, macro audit_recheck): the rows
    of raw files not audited yet and the audited rows of every key whose verdict may change.
    audit_claims_checked reads only those files and the files holding an accepted row listed
    here; fct_claims and int_provider_months_aggregated also reload these dates (months). -#}
{{ carepulse.audit_recheck(
    'audit_claims_checked', 'claims', 'claims',
    ref('stg_claims__claims'), 'claim_id', 'claim_end_date',
    {'patient_id': ref('audit_patients_checked'), 'provider_id': ref('audit_providers_checked')},
) }}
