{#- Tables of the reconciliation whose quarantined share of rows read exceeds max_share.
    Applied twice: at quarantine_warn_share with severity warn, at quarantine_error_share as an error. -#}
{% test quarantine_share_within(model, max_share) %}
    select
        source_table,
        rows_read,
        rows_quarantined,
        quarantine_share
    from {{ model }}
    where quarantine_share > {{ max_share }}
{% endtest %}
