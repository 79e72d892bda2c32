{#- The incremental fact holds exactly the accepted events, each once. A difference means a
    run missed late rows dated before the last load, kept rows the quarantine now rejects,
    or loaded an event twice: rebuild with
    `dbt build --full-refresh --select fct_engagement_events`.
    Each once: the accepted events' keys are unique (tested where the audit makes them,
    int_engagement_events_accepted), so when both hold the same keys and as many rows, no
    key repeats in the fact; this replaces a unique test on the fact's 5 million keys. -#}
with events as (
    select * from {{ ref('int_engagement_events_accepted') }}
),

facts as (
    select * from {{ ref('fct_engagement_events') }}
),

compared as (
    select
        coalesce(events.event_id, facts.event_id) as event_id,
        events.event_id is not null as is_accepted,
        facts.event_id is not null as is_loaded
    from events
    full outer join facts
        on events.event_id = facts.event_id
),

row_counts as (
    select
        (select count(*) from events) as accepted_rows,
        (select count(*) from facts) as loaded_rows
),

final as (
    select
        event_id,
        is_accepted,
        is_loaded,
        cast(null as {{ dbt.type_bigint() }}) as accepted_rows,
        cast(null as {{ dbt.type_bigint() }}) as loaded_rows
    from compared
    where not (is_accepted and is_loaded)
    union all
    select
        cast(null as {{ dbt.type_string() }}) as event_id,
        cast(null as boolean) as is_accepted,
        cast(null as boolean) as is_loaded,
        accepted_rows,
        loaded_rows
    from row_counts
    where accepted_rows <> loaded_rows
)

select * from final
