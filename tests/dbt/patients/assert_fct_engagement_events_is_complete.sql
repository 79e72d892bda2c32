{#- The incremental fact holds exactly the accepted events. A difference means a run
    missed late rows dated before the last load, or kept rows the quarantine now rejects:
    rebuild with `dbt build --full-refresh --select fct_engagement_events`. -#}
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
)

select * from compared
where not (is_accepted and is_loaded)
