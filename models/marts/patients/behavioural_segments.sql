{{ config(tags=['post_ml']) }}

{#- Behavioural segments (study 000) of the latest ML run that fitted them: one row per
    segment with its name, size, churn and revenue and the centroid of the main usage
    features (in original units). The name comes from the segment's profile by the rules
    in seed segment_naming_rules (centroid percentile in the population per feature; the
    matching rule with the lowest rule_order wins; '*' always matches); segments that get
    the same name are numbered by segment. Churn and revenue are recomputed from the marts
    (patient_churn at the as-of date; event revenue in the 360 days to the cutoff), not
    taken from the ml tables. Built by the post_ml selector, after `python -m ml train`. -#}
{%- set name_rank_text = dbt.safe_cast('named.name_rank', api.Column.translate_type('string')) -%}
with segments as (
    select * from {{ source('ml', 'patient_segments_current') }}
),

profiles as (
    select * from {{ source('ml', 'segment_profiles_current') }}
),

rules as (
    select * from {{ ref('segment_naming_rules') }}
),

patient_churn as (
    select * from {{ ref('patient_churn') }}
),

events as (
    select * from {{ ref('fct_engagement_events') }}
),

segment_list as (
    select distinct
        run_id,
        as_of_date,
        cutoff_date,
        segment
    from profiles
),

rule_sizes as (
    select
        rule_order,
        count(*) as conditions
    from rules
    group by rule_order
),

rule_hits as (
    select
        segment_list.segment,
        rules.rule_order,
        count(*) as conditions_met
    from segment_list
    inner join rules
        on rules.feature = '*'
    group by
        segment_list.segment,
        rules.rule_order
    union all
    select
        profiles.segment,
        rules.rule_order,
        count(*) as conditions_met
    from profiles
    inner join rules
        on
            profiles.feature = rules.feature
            and profiles.centroid_percentile >= rules.min_percentile
            and profiles.centroid_percentile <= rules.max_percentile
    group by
        profiles.segment,
        rules.rule_order
),

first_rule as (
    select
        rule_hits.segment,
        min(rule_hits.rule_order) as rule_order
    from rule_hits
    inner join rule_sizes
        on
            rule_hits.rule_order = rule_sizes.rule_order
            and rule_hits.conditions_met = rule_sizes.conditions
    group by rule_hits.segment
),

rule_names as (
    select distinct
        rule_order,
        segment_name
    from rules
),

named as (
    select
        first_rule.segment,
        first_rule.rule_order,
        rule_names.segment_name as base_name,
        row_number() over (partition by rule_names.segment_name order by first_rule.segment) as name_rank
    from first_rule
    inner join rule_names
        on first_rule.rule_order = rule_names.rule_order
),

patient_revenue as (
    select
        segments.patient_id,
        sum(events.revenue_usd) as revenue_360d
    from segments
    inner join events
        on
            segments.patient_id = events.patient_id
            and segments.cutoff_date >= events.event_date
            and {{ dbt.dateadd('day', -360, 'segments.cutoff_date') }} < events.event_date
    group by segments.patient_id
),

members as (
    select
        segments.segment,
        count(*) as patients,
        sum(case when patient_churn.is_churned then 1 else 0 end) as churned_patients,
        sum(coalesce(patient_revenue.revenue_360d, 0)) as revenue_360d
    from segments
    left join patient_churn
        on segments.patient_id = patient_churn.patient_id
    left join patient_revenue
        on segments.patient_id = patient_revenue.patient_id
    group by segments.segment
),

centroids as (
    select
        segment,
        max(case when feature = 'events_90d' then centroid end) as events_90d,
        max(case when feature = 'event_types_90d' then centroid end) as event_types_90d,
        max(case when feature = 'active_days_90d' then centroid end) as active_days_90d,
        max(case when feature = 'days_inactive' then centroid end) as days_inactive,
        max(case when feature = 'revenue_360d' then centroid end) as revenue_360d
    from profiles
    group by segment
),

totals as (
    select sum(patients) as all_patients
    from members
),

final as (
    select
        segment_list.run_id,
        segment_list.as_of_date,
        segment_list.cutoff_date,
        cast(segment_list.segment as {{ dbt.type_int() }}) as segment,
        case
            when count(*) over (partition by named.base_name) > 1
                then {{ dbt.concat(['named.base_name', "' '", name_rank_text]) }}
            else named.base_name
        end as segment_name,
        cast(named.rule_order as {{ dbt.type_int() }}) as naming_rule,
        cast(members.patients as {{ dbt.type_bigint() }}) as patients,
        cast(members.patients as {{ carepulse.type_double() }}) / totals.all_patients as patient_share,
        cast(members.churned_patients as {{ dbt.type_bigint() }}) as churned_patients,
        cast(members.churned_patients as {{ carepulse.type_double() }}) / members.patients as churn_rate,
        cast(members.revenue_360d as {{ carepulse.type_double() }}) as revenue_360d,
        cast(members.revenue_360d as {{ carepulse.type_double() }}) / members.patients as revenue_360d_per_patient,
        cast(centroids.events_90d as {{ carepulse.type_double() }}) as centroid_events_90d,
        cast(centroids.event_types_90d as {{ carepulse.type_double() }}) as centroid_event_types_90d,
        cast(centroids.active_days_90d as {{ carepulse.type_double() }}) as centroid_active_days_90d,
        cast(centroids.days_inactive as {{ carepulse.type_double() }}) as centroid_days_inactive,
        cast(centroids.revenue_360d as {{ carepulse.type_double() }}) as centroid_revenue_360d
    from segment_list
    inner join named
        on segment_list.segment = named.segment
    inner join members
        on segment_list.segment = members.segment
    inner join centroids
        on segment_list.segment = centroids.segment
    cross join totals
)

select * from final
