{#- The engagement event rows an incremental build audits again (issue 13, macro
    audit_recheck): the rows of raw files not audited yet and the audited rows of every key
    whose verdict may change. audit_engagement_events_checked reads only those files and the
    files holding an accepted row listed here; fct_engagement_events and
    int_patient_days_aggregated also reload these dates, int_patient_months_aggregated these
    patients. -#}
{{ carepulse.audit_recheck(
    'audit_engagement_events_checked', 'platform', 'engagement_events',
    ref('stg_platform__engagement_events'), 'event_id', 'cast(event_at as date)',
    {'patient_id': ref('audit_patients_checked')},
) }}
