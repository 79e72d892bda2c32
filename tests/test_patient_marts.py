"""End-to-end checks of the patient marts on a hand-made raw data set.

The fixture is built so that the figures are known by construction: 1,000 depression
patients of whom 829 are churned (82.9%) and 1,000 diabetes patients of whom 655 are
churned, so 1,484 of 2,000 (74.2%) overall. Other expectations (RFM, cohorts, journeys,
outreach) are recomputed here in pandas from the raw rows, independently of the SQL.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_DIR, query, run_dbt, write_raw_tables

AS_OF = date(2024, 6, 30)
CHURN_DAYS = 90
RFM_DAYS = 365
DROPOUT_DAYS = 60
ENGAGEMENT_DAYS = 90
EVENT_TYPES = ["login", "telemedicine_visit", "medication_refill", "health_tracking", "education_content", "message"]
REVENUE = {"telemedicine_visit": "75.00", "medication_refill": "12.50"}
LOCATIONS = ["urban", "suburban", "rural"]
REFERRALS = ["doctor", "word_of_mouth", "online", "insurer", "other"]
PLANS = ["commercial", "medicare_advantage", "medicaid"]
SEXES = ["F", "M", "U"]
STAGES = ["screening", "diagnosis", "treatment", "follow_up"]
PATIENTS_PER_CONDITION = 1000
CHURNED = {"depression": 829, "diabetes": 655}
SELECT_PATIENT_MARTS = ["+path:models/marts/patients", "+outreach_performance"]


def _ts(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour, 15).strftime("%Y-%m-%d %H:%M:%S")


def build_raw_tables() -> dict[str, pd.DataFrame]:
    """The hand-made raw input: six tables of text columns, as a platform export would be."""
    patients, events, stages, calls = [], [], [], []
    number = 0
    for condition in ("depression", "diabetes"):
        for k in range(PATIENTS_PER_CONDITION):
            number += 1
            pid = f"P{number:05d}"
            churned = k < CHURNED[condition]
            # A few of each group have no events at all: the enrolment rule decides their churn.
            no_events = k % 50 == 7
            if churned:
                enrolled = AS_OF - timedelta(days=200 + (k % 400))
                # k % 50 == 0 sits exactly on the boundary (91 days inactive), the rest further out.
                last = AS_OF - timedelta(days=91 if k % 50 == 0 else 92 + (k % 90))
            else:
                # Without events, k % 100 == 57 is enrolled exactly 90 days ago: still new.
                enrolled = AS_OF - timedelta(days=(90 if k % 100 == 57 else 60) if no_events else 100 + (k % 300))
                # k % 50 == 1 sits exactly on the boundary (90 days inactive: retained).
                last = AS_OF - timedelta(days=90 if k % 50 == 1 else k % 80)
            if no_events and churned:
                enrolled = AS_OF - timedelta(days=91 if k % 100 == 7 else 150)
            patients.append(
                {
                    "patient_id": pid,
                    "first_name": "Test",
                    "last_name": f"Patient{number}",
                    "email": f"p{number}@example.org",
                    "phone": "555-0100",
                    "birth_date": date(1930 + (k % 75), 1 + k % 12, 1 + k % 28).isoformat(),
                    "sex": SEXES[k % 3],
                    "zip_code": f"{10000 + k:05d}",
                    "location_type": LOCATIONS[k % 3],
                    "primary_condition": condition,
                    "referral_source": REFERRALS[k % 5],
                    "plan_type": PLANS[k % 3],
                    "enrolled_at": _ts(enrolled, 9),
                }
            )
            if no_events:
                continue
            first = max(enrolled, last - timedelta(days=400))
            n_events = 1 + (k % 5)
            for i in range(n_events):
                day = last if i == 0 else first + (last - first) * i / n_events
                events.append(
                    {
                        "event_id": f"E{number:05d}-{i}",
                        "patient_id": pid,
                        "event_at": _ts(day, 8 + i),
                        "event_type": EVENT_TYPES[(k + i) % 6],
                        "revenue_usd": REVENUE.get(EVENT_TYPES[(k + i) % 6], "0"),
                    }
                )
            # Every third patient is in the care pathway; k decides how far and how it ends.
            if k % 3 == 0:
                stages.extend(_journey_rows(pid, k))
            if k % 4 == 0:
                for i in range(1 + k % 3):
                    called = AS_OF - timedelta(days=5 + (k + 3 * i) % 200)
                    calls.append(
                        {
                            "call_id": f"C{number:05d}-{i}",
                            "patient_id": pid,
                            "called_at": _ts(called, 8 + (k + i) % 12),
                            "channel": ["phone", "sms", "email"][(k + i) % 3],
                            "program": ["care_management", "wellness"][k % 2],
                            "outcome": ["engaged", "declined", "no_answer", "voicemail", "wrong_number"][
                                (k // 4 + i) % 5
                            ],
                        }
                    )
    # Rows the quarantine must keep out of every mart.
    patients.append({**patients[0], "patient_id": "PBAD1", "sex": "X"})
    events.append({**events[0], "event_id": "EBAD1", "patient_id": "PBAD1"})
    events.append({**events[0], "event_id": "EBAD2", "event_type": "teleport"})
    events.append({**events[0], "event_id": "EBAD3", "event_at": _ts(AS_OF + timedelta(days=3))})
    providers = pd.DataFrame(
        [
            {
                "provider_id": "1234567893",
                "provider_name": "Test Clinic",
                "specialty": "family_medicine",
                "state": "NY",
                "city": "New York",
            }
        ]
    )
    claims = pd.DataFrame(
        [
            {
                "claim_id": "CL1",
                "patient_id": "P00001",
                "provider_id": "1234567893",
                "claim_start_date": "2024-05-01",
                "claim_end_date": "2024-05-02",
                "paid_amount": "120.00",
                "deductible_amount": "0.00",
                "diagnosis_code": "F32.9",
                "procedure_code": "99213",
            }
        ]
    )
    return {
        "patients": pd.DataFrame(patients),
        "engagement_events": pd.DataFrame(events),
        "care_journey_stages": pd.DataFrame(stages, columns=["patient_id", "stage", "entered_at", "completed_at"]),
        "outreach_calls": pd.DataFrame(calls),
        "providers": providers,
        "claims": claims,
    }


def _journey_rows(pid: str, k: int) -> list[dict[str, str]]:
    """Stage rows of one patient. Variants cover every status and the 60-day dropout boundary."""
    variant = (k // 3) % 6
    start = AS_OF - timedelta(days=300)
    rows = []
    if variant == 0:  # completed the whole pathway
        day = start
        for stage in STAGES:
            rows.append((stage, day, day + timedelta(days=7)))
            day += timedelta(days=10)
    elif variant in (1, 2):  # furthest stage (treatment) not completed, entered 61 / 60 days ago
        entered = AS_OF - timedelta(days=61 if variant == 1 else 60)
        rows = [
            ("screening", start, start + timedelta(days=3)),
            ("diagnosis", start + timedelta(days=5), start + timedelta(days=20)),
            ("treatment", entered, None),
        ]
    elif variant == 3:  # screening completed long ago, next stage never entered: in progress by the rule
        rows = [("screening", start, start + timedelta(days=4))]
    elif variant == 4:  # recent entry, nothing completed yet
        rows = [("screening", AS_OF - timedelta(days=10), None)]
    else:  # dropped out at screening long ago
        rows = [("screening", start, None)]
    return [
        {
            "patient_id": pid,
            "stage": stage,
            "entered_at": _ts(entered),
            "completed_at": _ts(completed) if completed else "",
        }
        for stage, entered, completed in rows
    ]


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (centre - margin) / denominator, (centre + margin) / denominator


def ntile_scores(frame: pd.DataFrame, sort_columns: list[str], ascending: list[bool]) -> pd.Series:
    """5 = best quintile: best-first order, ties by patient_id, first groups take the remainder."""
    ordered = frame.sort_values(sort_columns + ["patient_id"], ascending=ascending + [True], na_position="last")
    n = len(ordered)
    sizes = [n // 5 + (1 if i < n % 5 else 0) for i in range(5)]
    scores = np.concatenate([np.full(size, 5 - i) for i, size in enumerate(sizes)])
    return pd.Series(scores, index=ordered.index)


def raw_dir_of(db_path: Path) -> Path:
    """The fixture's raw folder sits next to its warehouse file."""
    return db_path.parent / "raw"


@pytest.fixture(scope="module")
def raw_tables() -> dict[str, pd.DataFrame]:
    return build_raw_tables()


@pytest.fixture(scope="module")
def warehouse(raw_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The patient marts and everything upstream built and tested (`dbt build`) on the fixture."""
    root = tmp_path_factory.mktemp("patient_marts")
    raw_dir = write_raw_tables(raw_dir_of(root / "carepulse.duckdb"), raw_tables, fmt="csv")
    db_path = root / "carepulse.duckdb"
    run_dbt(
        # the post-ML patient marts (segments, value) and the ml source tests need the ML step
        ["build", "--select", *SELECT_PATIENT_MARTS, "--exclude", "source:ml+", "--indirect-selection", "cautious"],
        raw_dir,
        db_path,
        as_of=AS_OF.isoformat(),
    )
    return db_path


@pytest.fixture(scope="module")
def accepted_events(raw_tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The events the quarantine accepts, with dates: the reference the checks recompute from."""
    events = raw_tables["engagement_events"]
    events = events[~events["event_id"].str.startswith("EBAD")].copy()
    events["event_date"] = pd.to_datetime(events["event_at"]).dt.date
    events["revenue"] = events["revenue_usd"].astype(float)
    return events


def test_churn_drivers_reproduce_the_known_study_figures(warehouse: Path) -> None:
    drivers = query(warehouse, "select * from marts.churn_drivers").set_index(["dimension", "dimension_value"])
    overall = drivers.loc[("overall", "overall")]
    depression = drivers.loc[("primary_condition", "depression")]
    diabetes = drivers.loc[("primary_condition", "diabetes")]
    assert overall["patients"] == 2000 and overall["churned_patients"] == 1484
    assert overall["churn_rate"] == pytest.approx(0.742, abs=1e-12)
    assert depression["churn_rate"] == pytest.approx(0.829, abs=1e-12)
    assert round(depression["churn_rate"] * 100, 1) == 82.9 and round(overall["churn_rate"] * 100, 1) == 74.2
    assert depression["diff_vs_overall"] == pytest.approx(8.7, abs=1e-9)
    assert depression["relative_risk"] == pytest.approx(0.829 / 0.655, rel=1e-12)
    assert diabetes["rest_churn_rate"] == pytest.approx(0.829, abs=1e-12)
    low, high = wilson(829, 1000)
    assert depression["churn_rate_ci_low"] == pytest.approx(low, abs=1e-9)
    assert depression["churn_rate_ci_high"] == pytest.approx(high, abs=1e-9)
    assert pd.isna(overall["relative_risk"])
    # Every required dimension is there and each partitions the 2,000 patients.
    dimensions = drivers.reset_index().groupby("dimension")[["patients", "churned_patients"]].sum()
    for dimension in ["primary_condition", "location_type", "referral_source", "age_band", "plan_type", "sex"]:
        assert dimensions.loc[dimension, "patients"] == 2000
        assert dimensions.loc[dimension, "churned_patients"] == 1484


def test_churn_boundaries_and_patients_without_events(warehouse: Path, raw_tables: dict[str, pd.DataFrame]) -> None:
    churn = query(warehouse, "select * from marts.patient_churn").set_index("patient_id")
    assert "PBAD1" not in churn.index  # quarantined patient
    assert churn["as_of_date"].astype(str).unique().tolist() == [AS_OF.isoformat()]
    exactly_90 = churn[churn["days_inactive"] == CHURN_DAYS]
    exactly_91 = churn[churn["days_inactive"] == CHURN_DAYS + 1]
    assert len(exactly_90) > 0 and not exactly_90["is_churned"].any()
    assert len(exactly_91) > 0 and exactly_91["is_churned"].all()
    # Churned at the first day past the threshold: 91 days inactive means churned on the as-of date.
    assert (pd.to_datetime(exactly_91["churned_at"]).dt.date == AS_OF).all()
    without_events = churn[~churn["has_activity"]]
    assert without_events["last_active_date"].isna().all()
    enrolled = pd.to_datetime(raw_tables["patients"].set_index("patient_id")["enrolled_at"]).dt.date
    days_enrolled = without_events.index.map(lambda pid: (AS_OF - enrolled[pid]).days)
    assert ((days_enrolled > CHURN_DAYS) == without_events["is_churned"]).all()
    assert set(without_events["churn_status"]) == {"new", "churned"}
    # P00001 also has a future-dated event (EBAD3): quarantined, so it cannot be its last activity.
    assert pd.Timestamp(churn.loc["P00001", "last_active_date"]) <= pd.Timestamp(AS_OF)


def test_rfm_scores_match_an_independent_computation(
    warehouse: Path, raw_tables: dict[str, pd.DataFrame], accepted_events: pd.DataFrame
) -> None:
    rfm = query(warehouse, "select * from marts.patient_rfm").set_index("patient_id").sort_index()
    window_start = AS_OF - timedelta(days=RFM_DAYS)
    in_window = accepted_events[accepted_events["event_date"] > window_start]
    expected = pd.DataFrame(index=raw_tables["patients"]["patient_id"].drop_duplicates())
    expected = expected[expected.index != "PBAD1"]
    expected["recency_days"] = accepted_events.groupby("patient_id")["event_date"].max().map(lambda d: (AS_OF - d).days)
    expected["frequency"] = in_window.groupby("patient_id").size()
    expected["monetary"] = in_window.groupby("patient_id")["revenue"].sum()
    expected = expected.fillna({"frequency": 0, "monetary": 0.0}).rename_axis("patient_id").reset_index()
    expected["r_score"] = ntile_scores(expected, ["recency_days"], [True])
    expected["f_score"] = ntile_scores(expected, ["frequency"], [False])
    expected["m_score"] = ntile_scores(expected, ["monetary"], [False])
    expected = expected.set_index("patient_id").sort_index()
    assert (rfm["recency_days"].fillna(-1) == expected["recency_days"].fillna(-1)).all()
    assert (rfm["frequency"] == expected["frequency"]).all()
    assert np.allclose(rfm["monetary"].astype(float), expected["monetary"])
    for score in ("r_score", "f_score", "m_score"):
        assert (rfm[score] == expected[score]).all(), score
        sizes = rfm[score].value_counts()
        assert sizes.max() - sizes.min() <= 1 and set(sizes.index) == {1, 2, 3, 4, 5}
    # Patients without events rank least recent.
    assert (rfm.loc[rfm["recency_days"].isna(), "r_score"] == 1).all()
    assert (
        rfm["rfm_cell"] == rfm["r_score"].astype(str) + rfm["f_score"].astype(str) + rfm["m_score"].astype(str)
    ).all()
    # Every patient's segment is the seed map's for its cell; the best and worst cells exist.
    segment_map = pd.read_csv(PROJECT_DIR / "seeds/patients/rfm_segment_map.csv", dtype=str)
    expected_segment = rfm["rfm_cell"].map(segment_map.set_index("rfm_cell")["rfm_segment"])
    assert expected_segment.notna().all() and (rfm["rfm_segment"] == expected_segment).all()
    assert {"555", "111"} <= set(rfm["rfm_cell"])
    assert set(rfm.loc[rfm["rfm_cell"] == "555", "rfm_segment"]) == {"Champions"}
    assert set(rfm.loc[rfm["rfm_cell"] == "111", "rfm_segment"]) == {"Lost"}


def test_monthly_activity_and_cohorts_reconcile_with_events(
    warehouse: Path, raw_tables: dict[str, pd.DataFrame], accepted_events: pd.DataFrame
) -> None:
    monthly = query(warehouse, "select * from marts.patient_activity_monthly")
    assert monthly["events"].sum() == len(accepted_events)
    assert float(monthly["revenue_usd"].astype(float).sum()) == pytest.approx(accepted_events["revenue"].sum())
    for event_type in EVENT_TYPES:
        assert monthly[f"{event_type}_events"].sum() == (accepted_events["event_type"] == event_type).sum()
    # One row per patient and month from enrolment to the as-of month, inactive months included.
    patients = raw_tables["patients"]
    patients = patients[patients["patient_id"] != "PBAD1"]
    enrolled = pd.to_datetime(patients["enrolled_at"])
    expected_rows = ((AS_OF.year - enrolled.dt.year) * 12 + AS_OF.month - enrolled.dt.month + 1).sum()
    assert len(monthly) == expected_rows
    assert (~monthly["is_active"]).sum() > 0

    cohorts = query(warehouse, "select * from marts.cohort_retention")
    frame = patients.assign(cohort=enrolled.dt.to_period("M"))
    events = accepted_events.assign(month=pd.to_datetime(accepted_events["event_at"]).dt.to_period("M"))
    active = events.merge(frame[["patient_id", "cohort"]], on="patient_id")[["patient_id", "cohort", "month"]]
    active = active.drop_duplicates().assign(offset=lambda f: (f["month"] - f["cohort"]).apply(lambda d: d.n))
    expected = active.groupby(["cohort", "offset"]).size()
    cohorts["cohort"] = pd.to_datetime(cohorts["enrolment_month"]).dt.to_period("M")
    got = cohorts.set_index(["cohort", "months_since_enrolment"])
    for (cohort, offset), count in expected.items():
        assert got.loc[(cohort, offset), "active_patients"] == count
    sizes = frame.groupby("cohort").size()
    assert (got["cohort_size"] == got.index.get_level_values(0).map(sizes)).all()
    assert (got["retention_rate"] == got["active_patients"] / got["cohort_size"]).all()


def test_journey_status_and_funnel(warehouse: Path, raw_tables: dict[str, pd.DataFrame]) -> None:
    journeys = query(warehouse, "select * from marts.patient_journey").set_index("patient_id")
    stages = raw_tables["care_journey_stages"]
    assert set(journeys.index) == set(stages["patient_id"])
    not_completed = journeys[~journeys["is_furthest_stage_completed"]]
    at_60 = not_completed[not_completed["days_since_furthest_stage_entered"] == DROPOUT_DAYS]
    at_61 = not_completed[not_completed["days_since_furthest_stage_entered"] == DROPOUT_DAYS + 1]
    assert len(at_60) > 0 and (at_60["journey_status"] == "in_progress").all()
    assert len(at_61) > 0 and (at_61["journey_status"] == "dropped_out").all()
    # Expected statuses straight from the stage rows.
    rows = stages.assign(
        order=stages["stage"].map({s: i for i, s in enumerate(STAGES, 1)}),
        entered=pd.to_datetime(stages["entered_at"]).dt.date,
        done=stages["completed_at"] != "",
    )
    last = rows.sort_values("order").groupby("patient_id").tail(1).set_index("patient_id")
    # The furthest stage and the days since it was entered, from the raw rows.
    assert (journeys["furthest_stage"].sort_index() == last["stage"].sort_index()).all()
    days_since = last["entered"].map(lambda day: (AS_OF - day).days)
    assert (journeys["days_since_furthest_stage_entered"].sort_index() == days_since.sort_index()).all()
    finished = rows[(rows["stage"] == STAGES[-1]) & rows["done"]]["patient_id"]
    expected = pd.Series("in_progress", index=last.index)
    # Stalled: no pathway date (entry or completion) for more than DROPOUT_DAYS.
    completed_on = pd.to_datetime(rows["completed_at"].where(rows["done"])).dt.date
    last_seen = rows.assign(seen=completed_on.where(rows["done"], rows["entered"])).groupby("patient_id")["seen"].max()
    dropped = last_seen.reindex(last.index).map(lambda d: (AS_OF - d).days > DROPOUT_DAYS)
    expected[dropped] = "dropped_out"
    expected[expected.index.isin(finished)] = "completed"
    assert (journeys["journey_status"].sort_index() == expected.sort_index()).all()
    assert set(expected) == {"completed", "dropped_out", "in_progress"}

    funnel = query(warehouse, "select * from marts.care_journey_funnel order by stage_order")
    assert funnel["stage"].tolist() == STAGES
    entered = rows.groupby("stage").size()
    completed = rows[rows["done"]].groupby("stage").size()
    pathway = rows["patient_id"].nunique()
    for _, row in funnel.iterrows():
        assert row["patients_entered"] == entered.get(row["stage"], 0)
        assert row["patients_completed"] == completed.get(row["stage"], 0)
        assert row["stage_conversion_rate"] == pytest.approx(row["patients_completed"] / row["patients_entered"])
        assert row["cumulative_conversion_rate"] == pytest.approx(row["patients_completed"] / pathway)
        days = (
            pd.to_datetime(rows.loc[(rows["stage"] == row["stage"]) & rows["done"], "completed_at"]).dt.date
            - rows.loc[(rows["stage"] == row["stage"]) & rows["done"], "entered"]
        ).map(lambda d: d.days)
        assert row["median_days_in_stage"] == pytest.approx(days.median())
    dropped_at = last[dropped & ~last.index.isin(finished)].groupby("stage").size()
    assert funnel.set_index("stage")["patients_dropped_out"].to_dict() == {s: dropped_at.get(s, 0) for s in STAGES}

    segments = query(warehouse, "select * from marts.care_journey_funnel_by_segment")
    assert set(segments["dimension"]) == {"primary_condition", "location_type"}
    by_dimension = segments.groupby(["dimension", "stage"])["patients_entered"].sum().unstack(0)
    for stage in STAGES:
        assert (by_dimension.loc[stage] == entered.get(stage, 0)).all()


def test_outreach_performance_matches_calls(warehouse: Path, raw_tables: dict[str, pd.DataFrame]) -> None:
    calls = raw_tables["outreach_calls"].copy()
    called = pd.to_datetime(calls["called_at"])
    calls["hour_of_day"] = called.dt.hour
    calls["iso_weekday"] = called.dt.day_of_week + 1
    calls["engaged"] = calls["outcome"] == "engaged"
    calls["reached"] = calls["outcome"].isin(["engaged", "declined"])
    keys = ["channel", "program", "hour_of_day", "iso_weekday"]
    expected = calls.groupby(keys).agg(
        attempts=("call_id", "size"), engaged=("engaged", "sum"), reached=("reached", "sum")
    )
    got = query(warehouse, "select * from marts.outreach_performance").set_index(keys).sort_index()
    assert len(got) == len(expected)
    assert (got["attempts"] == expected["attempts"]).all()
    assert (got["engaged"] == expected["engaged"]).all()
    assert (got["reached"] == expected["reached"]).all()
    assert np.allclose(got["engagement_rate"], expected["engaged"] / expected["attempts"])
    weekday_names = dict(
        zip(range(1, 8), ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"], strict=False)
    )
    assert (got["weekday_name"] == got.index.get_level_values("iso_weekday").map(weekday_names)).all()


def test_engagement_score_components(warehouse: Path, accepted_events: pd.DataFrame) -> None:
    scores = query(warehouse, "select * from marts.patient_engagement_score").set_index("patient_id").sort_index()
    window_start = AS_OF - timedelta(days=ENGAGEMENT_DAYS)
    previous_start = AS_OF - timedelta(days=2 * ENGAGEMENT_DAYS)
    current = accepted_events[accepted_events["event_date"] > window_start]
    previous = accepted_events[
        (accepted_events["event_date"] > previous_start) & (accepted_events["event_date"] <= window_start)
    ]
    cur = current.groupby("patient_id").size().reindex(scores.index, fill_value=0)
    prev = previous.groupby("patient_id").size().reindex(scores.index, fill_value=0)
    types = current.groupby("patient_id")["event_type"].nunique().reindex(scores.index, fill_value=0)
    days = current.groupby("patient_id")["event_date"].nunique().reindex(scores.index, fill_value=0)
    assert (scores["engagement_window_events"] == cur).all()
    assert (scores["previous_window_events"] == prev).all()
    assert np.allclose(scores["breadth_score"], types / 6)
    depth = (days.rank(method="min") - 1) / (len(days) - 1)
    assert np.allclose(scores["depth_score"], depth)
    trend = np.where(cur + prev == 0, 0.0, ((cur - prev) / (cur + prev).replace(0, 1) + 1) / 2)
    assert np.allclose(scores["trend_score"], trend)
    expected = 100 * (0.3 * types / 6 + 0.4 * depth + 0.3 * trend)
    assert np.allclose(scores["engagement_score"], expected)
    churn = query(warehouse, "select patient_id, is_churned from marts.patient_churn").set_index("patient_id")
    assert (scores.loc[churn.index[churn["is_churned"]], "engagement_score"] == 0).all()


def test_dim_and_fact_hold_no_identifiers_and_every_accepted_row(
    warehouse: Path, accepted_events: pd.DataFrame
) -> None:
    dim = query(warehouse, "select * from marts.dim_patients")
    assert len(dim) == 2000
    assert not {"first_name", "last_name", "email", "phone", "birth_date", "zip_code", "birth_year"} & set(dim.columns)
    assert (dim["zip3"].str.len() == 3).all()
    assert (dim["age"] == AS_OF.year - (1930 + dim["patient_id"].str[1:].astype(int).sub(1).mod(1000).mod(75))).all()
    fact = query(warehouse, "select * from marts.fct_engagement_events")
    assert sorted(fact["event_id"]) == sorted(accepted_events["event_id"])
    assert fact["age_band_at_event"].notna().all()
    # the band is the seed's band of the event-year age (looked up by age, not a range join)
    bands = pd.read_csv(PROJECT_DIR / "seeds" / "patients" / "patient_age_bands.csv")
    top = bands["max_age"].isna()
    expected = fact["age_at_event"].map(
        lambda age: bands.loc[(bands["min_age"] <= age) & (top | (bands["max_age"] >= age)), "age_band"].item()
    )
    assert (fact["age_band_at_event"] == expected).all()


def test_fct_engagement_events_is_incremental_and_rerun_safe(warehouse: Path) -> None:
    """On the built warehouse, pretend the last load ran on `boundary` and missed
    one older event. One incremental run must reload from the latest loaded date on (that
    day's rows already exist: reloading them must not duplicate them, which is what makes
    re-runs safe) and leave older gaps to --full-refresh (a from-scratch build, as the
    `warehouse` fixture did, which holds every accepted event: checked by the singular
    test assert_fct_engagement_events_is_complete)."""
    # Run on the warehouse file itself (same profile, so dbt reuses its parsed project) and
    # put the built file back afterwards for the other tests.
    db_path = warehouse
    backup = warehouse.parent / "warehouse_backup.duckdb"
    shutil.copyfile(warehouse, backup)
    try:
        _check_incremental_reload(db_path)
    finally:
        shutil.copyfile(backup, warehouse)


def _check_incremental_reload(db_path: Path) -> None:
    boundary = AS_OF - timedelta(days=20)
    content_sql = "select * from marts.fct_engagement_events order by event_id"
    complete = query(db_path, content_sql)
    event_dates = pd.to_datetime(complete["event_date"])
    old_event = complete.loc[event_dates < pd.Timestamp(boundary - timedelta(days=30)), "event_id"].iloc[0]
    assert (event_dates == pd.Timestamp(boundary)).any()  # the boundary day has rows to reload
    con = duckdb.connect(str(db_path))
    try:
        con.execute(
            "delete from marts.fct_engagement_events where event_date > ? or event_id = ?", [boundary, old_event]
        )
    finally:
        con.close()
    before = query(db_path, content_sql)
    assert 0 < len(before) < len(complete) - 1
    run_dbt(["run", "--select", "fct_engagement_events"], raw_dir_of(db_path), db_path, as_of=AS_OF.isoformat())
    reloaded = query(db_path, content_sql)
    assert reloaded["event_id"].is_unique
    assert sorted(reloaded["event_id"]) == sorted(set(complete["event_id"]) - {old_event})
    # Reloaded rows are identical to the from-scratch build.
    expected = complete[complete["event_id"] != old_event].reset_index(drop=True)
    pd.testing.assert_frame_equal(reloaded.reset_index(drop=True), expected)


def test_generated_data_churn_matches_the_generator_truth(request: pytest.FixtureRequest) -> None:
    """On generated data the marts recover the generator's truth: every patient's churn flag
    and the churn rate of each condition. Uses the session's shared `small_warehouse`, so it
    only runs when other test modules build it anyway (the full suite), keeping this file fast."""
    others_build_it = any(
        "small_warehouse" in getattr(item, "fixturenames", ()) and item.module is not request.module
        for item in request.session.items
    )
    if not others_build_it:
        pytest.skip("runs with the full suite, which builds the shared small_warehouse anyway")
    from carepulse.generate.truth import TRUTH_DIR_NAME

    small_raw: Path = request.getfixturevalue("small_raw")
    small_warehouse: Path = request.getfixturevalue("small_warehouse")
    truth = pd.read_parquet(small_raw.resolve().parent / TRUTH_DIR_NAME / "patient_truth.parquet")
    churn = query(small_warehouse, "select patient_id, is_churned from marts.patient_churn")
    merged = truth.merge(churn, on="patient_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["is_churned"] == merged["is_churned_at_end"]).all()
    drivers = query(
        small_warehouse,
        "select dimension_value, churn_rate from marts.churn_drivers where dimension = 'primary_condition'",
    ).set_index("dimension_value")["churn_rate"]
    expected = truth.groupby("primary_condition")["is_churned_at_end"].mean()
    pd.testing.assert_series_equal(drivers.sort_index(), expected.sort_index(), check_names=False)
