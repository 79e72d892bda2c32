{#- One row per provider and month end of provider_segment_history for every provider not
    in the top segment (the rules seed's lowest priority: Champions) at that month end: the
    future-Champion model's (ml/champions.py) features as of the month end, all from the
    history itself (measures as of that day) and dim_providers (specialty).

    The label columns look ahead: is_champion_next_quarter when the provider is in the top
    segment at any of the next three month ends, null until those three month ends are in
    the history (is_labelled). The latest month end is the one the model scores. -#}
with history as (
    select * from {{ ref('provider_segment_history') }}
),

providers as (
    select * from {{ ref('dim_providers') }}
),

rules as (
    select * from {{ ref('provider_segment_rules') }}
),

top_segment as (
    select min(priority) as top_priority from rules
),

month_ends as (
    select
        month_end_date,
        row_number() over (order by month_end_date) as month_number,
        count(*) over () as months_in_history
    from (select distinct month_end_date from history) as distinct_months
),

numbered as (
    select
        history.*,
        month_ends.month_number,
        month_ends.months_in_history,
        history.segment_priority = top_segment.top_priority as is_top_segment
    from history
    inner join month_ends
        on history.month_end_date = month_ends.month_end_date
    cross join top_segment
),

with_past as (
    select
        numbered.*,
        lag(numbered.claim_count, 3)
            over (partition by numbered.provider_id order by numbered.month_number)
            as claim_count_3_months_earlier,
        lag(numbered.total_revenue, 3)
            over (partition by numbered.provider_id order by numbered.month_number)
            as revenue_3_months_earlier,
        sum(case when numbered.is_top_segment then 1 else 0 end) over (
            partition by numbered.provider_id
            order by numbered.month_number rows between unbounded preceding and 1 preceding
        ) as months_in_top_segment_before
    from numbered
),

next_quarter as (
    select
        current_month.provider_id,
        current_month.month_number,
        max(case when later_month.is_top_segment then 1 else 0 end) as reaches_top_segment
    from numbered as current_month
    inner join numbered as later_month
        on
            current_month.provider_id = later_month.provider_id
            and current_month.month_number < later_month.month_number
            and later_month.month_number <= current_month.month_number + 3
    group by current_month.provider_id, current_month.month_number
),

final as (
    select
        with_past.provider_id,
        with_past.month_end_date,
        with_past.month_number = with_past.months_in_history as is_scoring_month,
        with_past.month_number + 3 <= with_past.months_in_history as is_labelled,
        with_past.segment,
        providers.specialty,
        with_past.claim_count,
        with_past.distinct_patients,
        with_past.total_revenue,
        with_past.avg_claim_amount,
        cast(with_past.recency_days as {{ dbt.type_int() }}) as recency_days,
        cast(with_past.active_months as {{ dbt.type_int() }}) as active_months,
        cast(
            {{ dbt.datediff('with_past.first_claim_date', 'with_past.month_end_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as days_since_first_claim,
        with_past.revenue_last_90d,
        with_past.revenue_prior_90d,
        cast(
            with_past.claim_count - coalesce(with_past.claim_count_3_months_earlier, 0) as {{ dbt.type_bigint() }}
        ) as claims_last_3_months,
        cast(
            round(with_past.total_revenue - coalesce(with_past.revenue_3_months_earlier, 0), 2)
            as {{ carepulse.type_double() }}
        ) as revenue_last_3_months,
        cast(coalesce(with_past.months_in_top_segment_before, 0) as {{ dbt.type_int() }})
            as months_in_top_segment_before,
        case
            when with_past.month_number + 3 <= with_past.months_in_history
                then coalesce(next_quarter.reaches_top_segment = 1, false)
        end as is_champion_next_quarter
    from with_past
    inner join providers
        on with_past.provider_id = providers.provider_id
    left join next_quarter
        on
            with_past.provider_id = next_quarter.provider_id
            and with_past.month_number = next_quarter.month_number
    where not with_past.is_top_segment
)

select * from final
