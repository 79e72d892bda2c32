-- The benchmark's floor: the core marts as one plain DuckDB script, no dbt.
--
-- Why: `dbt build` time only means something next to what the same work costs when written
-- by hand. This script reads the same raw files (views raw_<table>, every column as text,
-- made by carepulse.bench exactly as the dbt hook makes them), types and validates them with
-- the same rules (first failing rule wins; duplicates keep the first row by date then
-- content; orphans dropped), and builds: daily activity, churn, churn drivers, RFM,
-- monthly activity, cohorts, provider measures and segments at the as-of date and at the
-- last 24 month ends, segment ROI, outreach performance, and point-in-time churn features
-- and labels on the 30-day cutoffs. No tests, no audit trail, no contracts, no docs: that
-- is what the ratio dbt / floor prices. tests/test_bench.py checks that the churn rate,
-- the RFM segment counts and the segment ROI equal the marts'.
--
-- Business constants are those of dbt_project.yml's defaults (churn 90 days, RFM window
-- 365 days, cost per visit 200, 90-day revenue windows, 24 month ends); segment rules and
-- visit plans are read from the seed CSVs (absolute thresholds only: the default rules).
-- The script is run with '{seeds}' replaced by the seeds folder.

set preserve_insertion_order = false;

-- ------------------------------------------------------------------ typed, validated inputs
-- events are typed once (5M rows at scale 1): the as-of date and the rules both read them
create or replace temp table typed_events as
select
    nullif(trim(event_id), '') as event_id,
    nullif(trim(patient_id), '') as patient_id,
    try_cast(nullif(trim(event_at), '') as timestamp) as event_at,
    nullif(trim(event_at), '') is not null as has_event_text,
    lower(nullif(trim(event_type), '')) as event_type,
    try_cast(nullif(trim(revenue_usd), '') as decimal(18, 2)) as revenue_usd,
    nullif(trim(revenue_usd), '') is not null as has_revenue_text
from raw_engagement_events;

create or replace temp table as_of as
select max(activity_date) as as_of_date
from (
    select cast(event_at as date) as activity_date from typed_events
    union all
    select try_cast(nullif(trim(claim_end_date), '') as date) from raw_claims
    union all
    select cast(try_cast(nullif(trim(called_at), '') as timestamp) as date) from raw_outreach_calls
)
where activity_date <= current_date;

create or replace temp table domains as
select * from read_csv('{seeds}/reference/raw_value_domains.csv', header = true, all_varchar = true);

create or replace table patients as
with typed as (
    select
        nullif(trim(patient_id), '') as patient_id,
        try_cast(nullif(trim(birth_date), '') as date) as birth_date,
        nullif(trim(birth_date), '') as birth_text,
        upper(nullif(trim(sex), '')) as sex,
        lower(nullif(trim(location_type), '')) as location_type,
        lower(nullif(trim(primary_condition), '')) as primary_condition,
        lower(nullif(trim(referral_source), '')) as referral_source,
        lower(nullif(trim(plan_type), '')) as plan_type,
        try_cast(nullif(trim(enrolled_at), '') as timestamp) as enrolled_at,
        nullif(trim(enrolled_at), '') as enrolled_text
    from raw_patients
),
ruled as (
    select
        typed.*,
        case
            when patient_id is null then 'missing_key'
            when (birth_text is not null and birth_date is null) or (enrolled_text is not null and enrolled_at is null)
                then 'unparseable_value'
            when coalesce(sex, '') not in (select allowed_value from domains where column_name = 'sex')
                or coalesce(location_type, '') not in (select allowed_value from domains where column_name = 'location_type')
                or coalesce(referral_source, '') not in (select allowed_value from domains where column_name = 'referral_source')
                then 'unknown_value'
            when enrolled_at < date '2000-01-01' or year(birth_date) < 1900 or birth_date > cast(enrolled_at as date)
                then 'impossible_date'
            when cast(enrolled_at as date) > (select as_of_date from as_of) then 'after_as_of'
        end as rule
    from typed
)
select
    patient_id,
    year(birth_date) as birth_year,
    sex,
    location_type,
    primary_condition,
    referral_source,
    plan_type,
    enrolled_at,
    cast(enrolled_at as date) as enrolled_date
from ruled
where rule is null
qualify row_number() over (
    partition by patient_id
    order by enrolled_at, year(birth_date), sex, location_type, primary_condition, referral_source, plan_type
) = 1;

create or replace temp macro luhn_double(digit) as
    case when cast(digit as integer) * 2 > 9 then cast(digit as integer) * 2 - 9 else cast(digit as integer) * 2 end;

create or replace table providers as
with typed as (
    select
        nullif(trim(provider_id), '') as provider_id,
        nullif(trim(provider_name), '') as provider_name,
        lower(nullif(trim(specialty), '')) as specialty,
        upper(nullif(trim(state), '')) as state,
        nullif(trim(city), '') as city
    from raw_providers
),
luhn as (
    -- NPI check digit: Luhn over the 80840 prefix (constant 24) and the first nine digits
    select
        *,
        (
            10 - (
                24 + luhn_double(substring(provider_id, 1, 1)) + cast(substring(provider_id, 2, 1) as integer)
                + luhn_double(substring(provider_id, 3, 1)) + cast(substring(provider_id, 4, 1) as integer)
                + luhn_double(substring(provider_id, 5, 1)) + cast(substring(provider_id, 6, 1) as integer)
                + luhn_double(substring(provider_id, 7, 1)) + cast(substring(provider_id, 8, 1) as integer)
                + luhn_double(substring(provider_id, 9, 1))
            ) % 10
        ) % 10 = cast(substring(provider_id, 10, 1) as integer) as is_valid
    from typed
    where regexp_full_match(provider_id, '[0-9]{10}')
)
select provider_id, provider_name, specialty, state, city
from luhn
where is_valid
qualify row_number() over (partition by provider_id order by provider_name, specialty, state, city) = 1;

create or replace table events as
with valid as (
    -- a case per rule, as in the audit models: a null comparison breaks no rule
    select *
    from typed_events
    where case
        when event_id is null then 'missing_key'
        when (has_event_text and event_at is null) or (has_revenue_text and revenue_usd is null)
            then 'unparseable_value'
        when coalesce(event_type, '') not in (select allowed_value from domains where column_name = 'event_type')
            then 'unknown_value'
        when event_at < date '2000-01-01' then 'impossible_date'
        when cast(event_at as date) > (select as_of_date from as_of) then 'after_as_of'
        when revenue_usd < 0 then 'negative_amount'
    end is null
),
duplicated as (
    -- ranking every row by key is a sort of the whole table; only repeated keys need it
    select event_id from valid group by event_id having count(*) > 1
),
kept as (
    select * from valid anti join duplicated using (event_id)
    union all
    (
        select * from valid semi join duplicated using (event_id)
        qualify row_number() over (partition by event_id order by event_at, patient_id, event_type, revenue_usd) = 1
    )
)
select event_id, patient_id, event_at, event_type, revenue_usd
from kept
where patient_id in (select patient_id from patients);

create or replace table claims as
with typed as (
    select
        nullif(trim(claim_id), '') as claim_id,
        nullif(trim(patient_id), '') as patient_id,
        nullif(trim(provider_id), '') as provider_id,
        try_cast(nullif(trim(claim_start_date), '') as date) as claim_start_date,
        try_cast(nullif(trim(claim_end_date), '') as date) as claim_end_date,
        try_cast(nullif(trim(paid_amount), '') as decimal(18, 2)) as paid_amount,
        try_cast(nullif(trim(deductible_amount), '') as decimal(18, 2)) as deductible_amount,
        upper(nullif(trim(diagnosis_code), '')) as diagnosis_code,
        upper(nullif(trim(procedure_code), '')) as procedure_code,
        (nullif(trim(claim_start_date), '') is not null and try_cast(nullif(trim(claim_start_date), '') as date) is null)
        or (nullif(trim(claim_end_date), '') is not null and try_cast(nullif(trim(claim_end_date), '') as date) is null)
        or (nullif(trim(paid_amount), '') is not null and try_cast(nullif(trim(paid_amount), '') as decimal(18, 2)) is null)
        or (
            nullif(trim(deductible_amount), '') is not null
            and try_cast(nullif(trim(deductible_amount), '') as decimal(18, 2)) is null
        ) as is_unparseable
    from raw_claims
),
valid as (
    select *
    from typed
    where case
        when claim_id is null then 'missing_key'
        when is_unparseable then 'unparseable_value'
        when not coalesce(regexp_full_match(diagnosis_code, '[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?'), false)
            then 'malformed_code'
        when claim_start_date < date '2000-01-01' then 'impossible_date'
        when claim_end_date < claim_start_date then 'end_before_start'
        when claim_end_date > (select as_of_date from as_of) then 'after_as_of'
        when paid_amount < 0 or deductible_amount < 0 then 'negative_amount'
    end is null
    qualify row_number() over (
        partition by claim_id
        order by claim_start_date, claim_end_date, patient_id, provider_id, paid_amount, deductible_amount,
            diagnosis_code, procedure_code
    ) = 1
)
select claim_id, patient_id, provider_id, claim_start_date, claim_end_date, paid_amount, deductible_amount, diagnosis_code
from valid
where
    patient_id in (select patient_id from patients)
    and provider_id in (select provider_id from providers);

create or replace table calls as
with typed as (
    select
        nullif(trim(call_id), '') as call_id,
        nullif(trim(patient_id), '') as patient_id,
        try_cast(nullif(trim(called_at), '') as timestamp) as called_at,
        nullif(trim(called_at), '') as called_text,
        lower(nullif(trim(channel), '')) as channel,
        lower(nullif(trim(program), '')) as program,
        lower(nullif(trim(outcome), '')) as outcome
    from raw_outreach_calls
),

valid as (
    select *
    from typed
    where case
        when call_id is null then 'missing_key'
        when called_text is not null and called_at is null then 'unparseable_value'
        when coalesce(channel, '') not in (select allowed_value from domains where column_name = 'channel')
            or coalesce(outcome, '') not in (select allowed_value from domains where column_name = 'outcome')
            then 'unknown_value'
        when called_at < date '2000-01-01' then 'impossible_date'
        when cast(called_at as date) > (select as_of_date from as_of) then 'after_as_of'
    end is null
    qualify row_number() over (partition by call_id order by called_at, patient_id, channel, program, outcome) = 1
)
select call_id, patient_id, called_at, channel, program, outcome
from valid
where patient_id in (select patient_id from patients);

-- ------------------------------------------------------------------ patients
create or replace table daily_activity as
select
    patient_id,
    cast(event_at as date) as activity_date,
    count(*) as events,
    count(*) filter (where event_type = 'login') as logins,
    count(*) filter (where event_type = 'telemedicine_visit') as telemedicine_visits,
    count(*) filter (where event_type = 'medication_refill') as medication_refills,
    count(*) filter (where event_type = 'health_tracking') as health_tracking,
    count(*) filter (where event_type = 'education_content') as education_content,
    count(*) filter (where event_type = 'message') as messages,
    coalesce(sum(revenue_usd), 0) as revenue_usd
from events
group by all;

create or replace table patient_summary as
select
    patients.*,
    as_of.as_of_date,
    activity.last_active_date,
    coalesce(activity.lifetime_events, 0) as lifetime_events,
    coalesce(activity.rfm_events, 0) as rfm_events,
    coalesce(activity.rfm_revenue, 0) as rfm_revenue
from patients
cross join as_of
left join (
    select
        patient_id,
        max(activity_date) as last_active_date,
        sum(events) as lifetime_events,
        sum(events) filter (where activity_date > (select as_of_date from as_of) - 365) as rfm_events,
        sum(revenue_usd) filter (where activity_date > (select as_of_date from as_of) - 365) as rfm_revenue
    from daily_activity
    group by patient_id
) as activity on patients.patient_id = activity.patient_id;

create or replace table patient_churn as
select
    patient_id,
    as_of_date,
    date_diff('day', coalesce(last_active_date, enrolled_date), as_of_date) as days_inactive,
    date_diff('day', coalesce(last_active_date, enrolled_date), as_of_date) > 90 as is_churned
from patient_summary;

create or replace table churn_drivers as
with attributes as (
    select
        patient_churn.is_churned,
        coalesce(summary.primary_condition, 'unknown') as primary_condition,
        coalesce(summary.location_type, 'unknown') as location_type,
        coalesce(summary.referral_source, 'unknown') as referral_source,
        coalesce(summary.plan_type, 'unknown') as plan_type,
        coalesce(summary.sex, 'unknown') as sex,
        case
            when summary.birth_year is null then 'unknown'
            when year(summary.as_of_date) - summary.birth_year < 35 then '18-34'
            when year(summary.as_of_date) - summary.birth_year < 50 then '35-49'
            when year(summary.as_of_date) - summary.birth_year < 65 then '50-64'
            else '65+'
        end as age_band
    from patient_churn
    inner join patient_summary as summary on patient_churn.patient_id = summary.patient_id
),
grouped as (
    unpivot attributes
    on primary_condition, location_type, referral_source, plan_type, sex, age_band
    into name dimension value dimension_value
),
counts as (
    select dimension, dimension_value, count(*) as patients, count(*) filter (where is_churned) as churned
    from grouped
    group by all
    union all
    select 'overall', 'overall', count(*), count(*) filter (where is_churned) from attributes
),
rated as (
    select *, churned / patients as p from counts
)
select
    rated.*,
    -- Wilson 95% interval
    (p + 1.96 ^ 2 / (2 * patients) - 1.96 * sqrt(p * (1 - p) / patients + 1.96 ^ 2 / (4 * patients ^ 2)))
    / (1 + 1.96 ^ 2 / patients) as ci_low,
    (p + 1.96 ^ 2 / (2 * patients) + 1.96 * sqrt(p * (1 - p) / patients + 1.96 ^ 2 / (4 * patients ^ 2)))
    / (1 + 1.96 ^ 2 / patients) as ci_high,
    p / (select p from rated where dimension = 'overall') as relative_risk
from rated;

create or replace temp table rfm_map as
select * from read_csv('{seeds}/patients/rfm_segment_map.csv', header = true);

create or replace table patient_rfm as
with scored as (
    select
        patient_id,
        date_diff('day', last_active_date, as_of_date) as recency_days,
        rfm_events as frequency,
        rfm_revenue as monetary,
        6 - ntile(5) over (order by date_diff('day', last_active_date, as_of_date) asc nulls last, patient_id) as r_score,
        6 - ntile(5) over (order by rfm_events desc, patient_id) as f_score,
        6 - ntile(5) over (order by rfm_revenue desc, patient_id) as m_score
    from patient_summary
)
select scored.*, rfm_map.rfm_segment
from scored
left join rfm_map using (r_score, f_score, m_score);

create or replace table patient_activity_monthly as
select
    patient_id,
    date_trunc('month', activity_date) as activity_month,
    sum(events) as events,
    count(*) as active_days,
    sum(revenue_usd) as revenue_usd
from daily_activity
group by all;

create or replace table cohort_retention as
with cohorts as (
    select patient_id, date_trunc('month', enrolled_date) as enrolment_month from patients
),
sizes as (
    select enrolment_month, count(*) as cohort_size from cohorts group by all
),
active as (
    select
        cohorts.enrolment_month,
        date_diff('month', cohorts.enrolment_month, monthly.activity_month) as months_since_enrolment,
        count(distinct monthly.patient_id) as active_patients
    from patient_activity_monthly as monthly
    inner join cohorts on monthly.patient_id = cohorts.patient_id
    where monthly.activity_month >= cohorts.enrolment_month
    group by all
)
select active.*, sizes.cohort_size, active.active_patients / sizes.cohort_size as retention_rate
from active
inner join sizes using (enrolment_month);

create or replace table outreach_performance as
select
    channel,
    program,
    hour(called_at) as call_hour,
    dayname(called_at) as call_weekday,
    count(*) as calls,
    count(*) filter (where outcome = 'engaged') as engaged_calls,
    count(*) filter (where outcome = 'engaged') / count(*) as engagement_rate
from calls
group by all;

-- ------------------------------------------------------------------ providers
create or replace temp table segment_rules as
select * from read_csv('{seeds}/providers/provider_segment_rules.csv', header = true);

create or replace temp table visit_plans as
select * from read_csv('{seeds}/providers/segment_visit_plans.csv', header = true);

create or replace temp table snapshots as
-- the as-of date and the last 24 month ends before it that are not before the first claim month
select as_of_date as snapshot_date from as_of
union
select cast(month_start + interval 1 month - interval 1 day as date)
from (
    select unnest(generate_series(
        greatest(
            (select date_trunc('month', min(claim_end_date)) from claims),
            date_trunc('month', (select as_of_date from as_of) + 1) - interval 24 month
        ),
        date_trunc('month', (select as_of_date from as_of) + 1) - interval 1 month,
        interval 1 month
    )) as month_start
);

create or replace table provider_segment_history as
with claim_months as (
    -- provider x month of claim end; a patient counts in their first month with the provider
    select
        provider_id,
        date_trunc('month', claim_end_date) as claim_month,
        count(*) as claim_count,
        count(*) filter (where is_first_with_provider) as new_patients,
        sum(paid_amount) as revenue,
        max(claim_end_date) as last_claim_date
    from (
        select
            *,
            row_number() over (partition by provider_id, patient_id order by claim_end_date) = 1
                as is_first_with_provider
        from claims
    )
    group by all
),
recent_revenue as (
    select snapshots.snapshot_date, claims.provider_id, sum(claims.paid_amount) as revenue_last_90d
    from snapshots
    inner join claims
        on claims.claim_end_date > snapshots.snapshot_date - 90 and claims.claim_end_date <= snapshots.snapshot_date
    group by all
),
measures as (
    select
        snapshots.snapshot_date,
        claim_months.provider_id,
        sum(claim_months.claim_count) as claim_count,
        sum(claim_months.new_patients) as distinct_patients,
        sum(claim_months.revenue) as total_revenue,
        date_diff('day', max(claim_months.last_claim_date), snapshots.snapshot_date) as recency_days
    from snapshots
    inner join claim_months on claim_months.claim_month <= date_trunc('month', snapshots.snapshot_date)
    group by snapshots.snapshot_date, claim_months.provider_id
),
long_values as (
    unpivot (select snapshot_date, provider_id, claim_count, total_revenue, recency_days from measures)
    on claim_count, total_revenue, recency_days
    into name measure value measure_value
),
failed as (
    select distinct long_values.snapshot_date, long_values.provider_id, segment_rules.segment
    from long_values
    inner join segment_rules on long_values.measure = segment_rules.measure
    where not case segment_rules.operator
        when '>' then long_values.measure_value > segment_rules.threshold
        when '<' then long_values.measure_value < segment_rules.threshold
        when '>=' then long_values.measure_value >= segment_rules.threshold
        when '<=' then long_values.measure_value <= segment_rules.threshold
    end
),
segments as (
    select segment, min(priority) as priority from segment_rules group by segment
)
select measures.*, coalesce(recent_revenue.revenue_last_90d, 0) as revenue_last_90d, segments.segment
from measures
left join recent_revenue using (snapshot_date, provider_id)
cross join segments
anti join failed using (snapshot_date, provider_id, segment)
qualify row_number() over (partition by measures.snapshot_date, measures.provider_id order by segments.priority) = 1;

create or replace table provider_segments as
select * from provider_segment_history
where snapshot_date = (select as_of_date from as_of);

create or replace table segment_roi as
with totals as (
    select segment, count(*) as providers, sum(claim_count) as claim_count, sum(total_revenue) as total_revenue
    from provider_segments
    group by segment
)
select
    segments.segment,
    coalesce(totals.providers, 0) as providers,
    coalesce(totals.claim_count, 0) as claim_count,
    coalesce(totals.total_revenue, 0) as total_revenue,
    coalesce(totals.providers, 0) * visit_plans.visits_per_quarter * 200 as investment,
    coalesce(totals.total_revenue, 0) / nullif(coalesce(totals.providers, 0) * visit_plans.visits_per_quarter * 200, 0)
        as roi
from (select distinct segment from segment_rules) as segments
left join totals using (segment)
left join visit_plans using (segment);

-- ------------------------------------------------------------------ point-in-time churn features
create or replace temp table cutoffs as
-- every 30 days back from the as-of date while 60 days of history precede the cutoff
select cast(i as integer) as period_index, (select as_of_date from as_of) - 30 * cast(i as integer) as cutoff_date
from range(0, 1000) as t (i)
where i = 0 or (select as_of_date from as_of) - 30 * cast(i as integer) >= (select min(activity_date) from daily_activity) + 60;

-- patient x 30-day period counted back from the as-of date: period j is (as_of - 30(j+1), as_of - 30j],
-- so a cutoff's windows are whole periods and one pass of window functions answers all cutoffs
create or replace temp macro period_of(day) as cast(floor(date_diff('day', day, (select as_of_date from as_of)) / 30) as integer);

create or replace temp table activity_periods as
select
    patient_id,
    period_of(activity_date) as period_index,
    sum(events) as events,
    count(*) as active_days,
    sum(logins) as logins,
    sum(telemedicine_visits) as telemedicine_visits,
    sum(medication_refills) as medication_refills,
    sum(messages) as messages,
    sum(revenue_usd) as revenue_usd,
    max(activity_date) as last_active_date
from daily_activity
group by all;

create or replace temp table claim_periods as
select patient_id, period_of(claim_end_date) as period_index, count(*) as claims, sum(paid_amount) as paid_amount
from claims
group by all;

create or replace temp table call_periods as
select
    patient_id,
    period_of(cast(called_at as date)) as period_index,
    count(*) as calls,
    count(*) filter (where outcome = 'engaged') as engaged_calls
from calls
group by all;

create or replace table churn_features_by_cutoff as
with grid as (
    select patient_id, enrolled_date, unnest(range(0, greatest(period_of(enrolled_date), 0) + 1)) as period_index
    from patients
),
joined as (
    select
        grid.patient_id,
        grid.enrolled_date,
        cast(grid.period_index as integer) as period_index,
        coalesce(activity.events, 0) as events,
        coalesce(activity.active_days, 0) as active_days,
        coalesce(activity.logins, 0) as logins,
        coalesce(activity.telemedicine_visits, 0) as telemedicine_visits,
        coalesce(activity.medication_refills, 0) as medication_refills,
        coalesce(activity.messages, 0) as messages,
        coalesce(activity.revenue_usd, 0) as revenue_usd,
        activity.last_active_date,
        coalesce(claim_periods.claims, 0) as claims,
        coalesce(claim_periods.paid_amount, 0) as paid_amount,
        coalesce(call_periods.calls, 0) as calls,
        coalesce(call_periods.engaged_calls, 0) as engaged_calls
    from grid
    left join activity_periods as activity
        on grid.patient_id = activity.patient_id and grid.period_index = activity.period_index
    left join claim_periods on grid.patient_id = claim_periods.patient_id and grid.period_index = claim_periods.period_index
    left join call_periods on grid.patient_id = call_periods.patient_id and grid.period_index = call_periods.period_index
),
windowed as (
    select
        patient_id,
        enrolled_date,
        period_index,
        max(last_active_date) over history as last_active_date,
        sum(events) over history as events_total,
        sum(active_days) over history as active_days_total,
        events as events_30d,
        sum(events) over last_90d as events_90d,
        sum(events) over last_180d as events_180d,
        active_days as active_days_30d,
        sum(active_days) over last_90d as active_days_90d,
        sum(logins) over last_90d as logins_90d,
        sum(telemedicine_visits) over last_90d as telemedicine_visits_90d,
        sum(medication_refills) over last_90d as medication_refills_90d,
        sum(messages) over last_90d as messages_90d,
        sum(revenue_usd) over last_90d as revenue_90d,
        sum(revenue_usd) over last_360d as revenue_360d,
        sum(revenue_usd) over history as revenue_total,
        sum(claims) over history as claims_total,
        sum(claims) over last_180d as claims_180d,
        sum(paid_amount) over last_360d as paid_amount_360d,
        sum(calls) over history as calls_total,
        sum(calls) over last_90d as calls_90d,
        sum(engaged_calls) over history as engaged_calls_total,
        -- the label: no event in the 90 days after the cutoff, i.e. the three periods after it
        sum(events) over next_90d as events_next_90d
    from joined
    window
        history as (partition by patient_id order by period_index range between current row and unbounded following),
        last_90d as (partition by patient_id order by period_index range between current row and 2 following),
        last_180d as (partition by patient_id order by period_index range between current row and 5 following),
        last_360d as (partition by patient_id order by period_index range between current row and 11 following),
        next_90d as (partition by patient_id order by period_index range between 3 preceding and 1 preceding)
)
select
    cutoffs.cutoff_date,
    windowed.* exclude (enrolled_date, last_active_date, events_next_90d),
    date_diff('day', coalesce(windowed.last_active_date, windowed.enrolled_date), cutoffs.cutoff_date) as days_inactive,
    date_diff('day', windowed.enrolled_date, cutoffs.cutoff_date) as tenure_days,
    case when cutoffs.period_index >= 3 then coalesce(windowed.events_next_90d, 0) = 0 end as is_churned_label
from windowed
inner join cutoffs on windowed.period_index = cutoffs.period_index
-- enrolled by the cutoff and active at it: not churned by the 90-day rule
where
    windowed.enrolled_date <= cutoffs.cutoff_date
    and date_diff('day', coalesce(windowed.last_active_date, windowed.enrolled_date), cutoffs.cutoff_date) <= 90;
