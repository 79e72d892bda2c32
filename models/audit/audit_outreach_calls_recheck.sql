{#- The outreach call rows an incremental build audits again (issue 13, macro audit_recheck):
    the rows of raw files not audited yet and the audited rows of every key whose verdict may
    change. audit_outreach_calls_checked reads only those files and the files holding an
    accepted row listed here; fct_outreach_calls also reloads these dates. -#}
{{ carepulse.audit_recheck(
    'audit_outreach_calls_checked', 'platform', 'outreach_calls',
    ref('stg_platform__outreach_calls'), 'call_id', 'cast(called_at as date)',
    {'patient_id': ref('audit_patients_checked')},
) }}
