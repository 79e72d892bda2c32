{#- The per-type columns of the patient marts follow carepulse.engagement_event_types();
    the accepted event types follow seed raw_value_domains. They must list the same types,
    or events of a new type would be missing from the per-type columns. -#}
with domain as (
    select allowed_value as event_type
    from {{ ref('raw_value_domains') }}
    where source_table = 'engagement_events' and column_name = 'event_type'
),

columns_listed as (
    {% for event_type in carepulse.engagement_event_types() %}
        select '{{ event_type }}' as event_type
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

compared as (
    select
        coalesce(domain.event_type, columns_listed.event_type) as event_type,
        domain.event_type is not null as is_in_domain,
        columns_listed.event_type is not null as has_columns
    from domain
    full outer join columns_listed
        on domain.event_type = columns_listed.event_type
)

select * from compared
where not (is_in_domain and has_columns)
