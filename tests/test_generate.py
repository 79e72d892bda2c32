"""Tests of the synthetic data generator (carepulse.generate): fast, small scales only.

They check the public contract (columns, types, formats), determinism, integrity of the clean
data, the documented churn calibration, and that every injected bad row breaks exactly the
one rule recorded for it in ground_truth/dirty_rows.parquet (checked by an independent SQL
validator below, not by the generator's own bookkeeping).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from carepulse.generate import GenerateResult, generate, is_valid_npi, npi_check_digit, oracle_churn_probability
from carepulse.generate.dirty import RULES

END = date(2025, 12, 31)
TABLES = ("patients", "engagement_events", "care_journey_stages", "outreach_calls", "providers", "claims")
CONTRACT = {
    "patients": [
        "patient_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "birth_date",
        "sex",
        "zip_code",
        "location_type",
        "primary_condition",
        "referral_source",
        "plan_type",
        "enrolled_at",
    ],
    "engagement_events": ["event_id", "patient_id", "event_at", "event_type", "revenue_usd"],
    "care_journey_stages": ["patient_id", "stage", "entered_at", "completed_at"],
    "outreach_calls": ["call_id", "patient_id", "called_at", "channel", "program", "outcome"],
    "providers": ["provider_id", "provider_name", "specialty", "state", "city"],
    "claims": [
        "claim_id",
        "patient_id",
        "provider_id",
        "claim_start_date",
        "claim_end_date",
        "paid_amount",
        "deductible_amount",
        "diagnosis_code",
        "procedure_code",
    ],
}
DOMAINS = {
    "sex": ("f", "m", "u"),
    "location_type": ("urban", "suburban", "rural"),
    "referral_source": ("doctor", "word_of_mouth", "online", "insurer", "other"),
    "event_type": (
        "login",
        "telemedicine_visit",
        "medication_refill",
        "health_tracking",
        "education_content",
        "message",
    ),
    "stage": ("screening", "diagnosis", "treatment", "follow_up"),
    "channel": ("phone", "sms", "email"),
    "outcome": ("engaged", "declined", "no_answer", "voicemail", "wrong_number"),
}
ICD10 = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"


def reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true)"


def raw_path(out: Path, table: str) -> Path:
    paths = [p for p in (out / f"{table}.parquet", out / f"{table}.csv") if p.exists()]
    assert len(paths) == 1, f"exactly one file expected for {table}: {paths}"
    return paths[0]


def load(out: Path, table: str) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute(f"select * from {reader(raw_path(out, table))}").fetchdf()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    """Clean parquet at scale 0.02 (2,000 patients), shared by the read-only tests."""
    return generate(scale=0.02, seed=11, out=tmp_path_factory.mktemp("clean") / "raw")


@pytest.fixture(scope="module")
def dirty_csv(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(scale=0.02, seed=11, out=tmp_path_factory.mktemp("dirty_csv") / "raw", fmt="csv", dirty_rate=0.05)


@pytest.fixture(scope="module")
def dirty_parquet(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    return generate(scale=0.01, seed=3, out=tmp_path_factory.mktemp("dirty_pq") / "raw", dirty_rate=0.08)


# ---------------------------------------------------------------------------------- NPI


def test_npi_check_digit_of_a_known_npi() -> None:
    assert npi_check_digit("123456789") == "3"
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("123456789")  # nine digits
    assert not is_valid_npi("12345678931")
    assert not is_valid_npi("12345678a3")
    with pytest.raises(ValueError):
        npi_check_digit("12345")


def test_npi_check_digit_detects_every_single_digit_change() -> None:
    rng = np.random.default_rng(0)
    for base in rng.integers(100_000_000, 999_999_999, size=50):
        npi = f"{base}{npi_check_digit(str(base))}"
        assert is_valid_npi(npi)
        for wrong in set("0123456789") - {npi[-1]}:
            assert not is_valid_npi(npi[:-1] + wrong)


def test_generated_providers_have_unique_valid_npis(clean: GenerateResult) -> None:
    providers = load(clean.out, "providers")
    assert providers["provider_id"].is_unique
    assert all(is_valid_npi(p) for p in providers["provider_id"])
    assert providers["provider_name"].str.match(r"^Provider \d{5} Clinic$").all()


# ---------------------------------------------------------------------------------- contract


def test_contract_columns_and_types_in_parquet(clean: GenerateResult) -> None:
    for table in TABLES:
        path = raw_path(clean.out, table)
        assert path.suffix == ".parquet"
        schema = pq.read_schema(path)
        assert schema.names == CONTRACT[table]
    types = {f.name: str(f.type) for f in pq.read_schema(clean.out / "patients.parquet")}
    # parquet has no second unit: seconds are stored as milliseconds, without a timezone
    assert types["birth_date"] == "date32[day]" and types["enrolled_at"] in ("timestamp[s]", "timestamp[ms]")
    events = pq.read_table(clean.out / "engagement_events.parquet").column("event_at")
    assert events.type.tz is None and (events.cast("int64").to_numpy() % 1000 == 0).all()
    assert types["zip_code"] == "string"
    claims = {f.name: str(f.type) for f in pq.read_schema(clean.out / "claims.parquet")}
    assert claims["paid_amount"] == "double" and claims["claim_start_date"] == "date32[day]"
    assert clean.truth_dir == clean.out.resolve().parent / "ground_truth"
    for name in (
        "patient_truth.parquet",
        "call_truth.parquet",
        "provider_truth.parquet",
        "factor_weights.json",
        "dirty_rows.parquet",
    ):
        assert (clean.truth_dir / name).exists()
    assert not any(p.name.startswith("patient_truth") for p in clean.out.iterdir())


def test_csv_is_readable_by_duckdb_and_keeps_leading_zeros(tmp_path: Path) -> None:
    result = generate(scale=0.005, seed=2, out=tmp_path / "raw", fmt="csv")
    for table in TABLES:
        path = raw_path(result.out, table)
        assert path.suffix == ".csv"
        with duckdb.connect() as con:
            frame = con.execute(f"select * from {reader(path)}").fetchdf()
        assert list(frame.columns) == CONTRACT[table]
        assert len(frame) == result.row_counts[table]
    patients = load(result.out, "patients")
    assert patients["zip_code"].str.fullmatch(r"\d{5}").all()
    assert patients["zip_code"].str.startswith("0").any()
    events = load(result.out, "engagement_events")
    assert pd.to_datetime(events["event_at"], format="%Y-%m-%d %H:%M:%S").notna().all()


def test_one_format_wins_in_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    generate(scale=0.003, seed=1, out=out, fmt="csv")
    generate(scale=0.003, seed=1, out=out, fmt="parquet")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    generate(scale=0.003, seed=1, out=out, fmt="csv")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in TABLES)


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(scale=0, out=tmp_path)
    with pytest.raises(ValueError):
        generate(scale=0.01, out=tmp_path, fmt="xlsx")
    with pytest.raises(ValueError):
        generate(scale=0.01, out=tmp_path, dirty_rate=-0.1)


# ---------------------------------------------------------------------------------- determinism and scale


def test_same_seed_same_data_different_seed_different_data(tmp_path: Path) -> None:
    a = generate(scale=0.01, seed=5, out=tmp_path / "a" / "raw")
    b = generate(scale=0.01, seed=5, out=tmp_path / "b" / "raw")
    c = generate(scale=0.01, seed=6, out=tmp_path / "c" / "raw")
    for table in TABLES:
        ta = pq.read_table(a.out / f"{table}.parquet")
        assert ta.equals(pq.read_table(b.out / f"{table}.parquet")), table
    for name in ("patient_truth.parquet", "call_truth.parquet"):
        assert pq.read_table(a.truth_dir / name).equals(pq.read_table(b.truth_dir / name))
    for table in ("patients", "engagement_events", "claims", "outreach_calls"):
        assert not pq.read_table(a.out / f"{table}.parquet").equals(pq.read_table(c.out / f"{table}.parquet")), table


def test_row_counts_scale_linearly(tmp_path: Path) -> None:
    small = generate(scale=0.005, seed=9, out=tmp_path / "s" / "raw").row_counts
    large = generate(scale=0.02, seed=9, out=tmp_path / "l" / "raw").row_counts
    assert small["patients"] == 500 and large["patients"] == 2000
    assert small["providers"] == 25 and large["providers"] == 100
    assert small["claims"] == 2600 and large["claims"] == 10400
    for table in ("engagement_events", "outreach_calls", "care_journey_stages"):
        assert 3.4 < large[table] / small[table] < 4.6, table
    # the brief's volumes per patient: ~50 events, ~3 calls
    assert 40 < large["engagement_events"] / 2000 < 60
    assert 2.4 < large["outreach_calls"] / 2000 < 3.6


# ---------------------------------------------------------------------------------- clean data integrity


def test_clean_data_is_consistent(clean: GenerateResult) -> None:
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"create view {table} as select * from {reader(raw_path(clean.out, table))}")
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert one("select count(*) - count(distinct patient_id) from patients") == 0
    assert one("select count(*) - count(distinct event_id) from engagement_events") == 0
    assert one("select count(*) - count(distinct call_id) from outreach_calls") == 0
    assert one("select count(*) - count(distinct claim_id) from claims") == 0
    assert one("select count(*) - count(distinct (patient_id, stage)) from care_journey_stages") == 0
    for table in ("engagement_events", "outreach_calls", "care_journey_stages", "claims"):
        assert one(f"select count(*) from {table} where patient_id not in (select patient_id from patients)") == 0
    assert one("select count(*) from claims where provider_id not in (select provider_id from providers)") == 0
    # events and calls happen after enrollment and inside the history window
    assert (
        one("""select count(*) from engagement_events e join patients p using (patient_id)
                  where e.event_at < p.enrolled_at or e.event_at >= date '2026-01-01'""")
        == 0
    )
    assert (
        one("""select count(*) from outreach_calls c join patients p using (patient_id)
                  where c.called_at < p.enrolled_at or c.called_at >= date '2026-01-01'""")
        == 0
    )
    assert one("select min(enrolled_at) >= date '2024-01-01' from patients")
    assert (
        one(
            "select count(*) from patients where birth_date >= cast(enrolled_at as date) or birth_date < date '1900-01-01'"
        )
        == 0
    )
    # enumerations are within the contract
    for table, column in (
        ("patients", "sex"),
        ("patients", "location_type"),
        ("patients", "referral_source"),
        ("engagement_events", "event_type"),
        ("care_journey_stages", "stage"),
        ("outreach_calls", "channel"),
        ("outreach_calls", "outcome"),
    ):
        values = {v for (v,) in con.execute(f"select distinct {column} from {table}").fetchall()}
        assert values <= set(DOMAINS[column]) | {v.upper() for v in DOMAINS[column]}, (table, column, values)
        assert values == set(DOMAINS[column]) if column != "sex" else values <= set("FMU")
    # amounts and revenue
    assert one("select count(*) from engagement_events where revenue_usd < 0") == 0
    assert one("""select bool_and(revenue_usd > 0) from engagement_events
                  where event_type in ('telemedicine_visit', 'medication_refill')""")
    assert one("select sum(revenue_usd) from engagement_events where event_type = 'login'") == 0
    assert (
        one(
            "select count(*) from claims where paid_amount < 0 or deductible_amount < 0 or claim_end_date < claim_start_date"
        )
        == 0
    )
    assert (
        one(
            "select count(*) from claims where claim_end_date > date '2025-12-31' or claim_start_date < date '2024-01-01'"
        )
        == 0
    )
    assert one(f"select count(*) from claims where not regexp_matches(diagnosis_code, '{ICD10}')") == 0
    assert 150 < one("select avg(paid_amount) from claims") < 300
    assert 0 < one("select count(*) from claims where procedure_code is null") < one("select count(*) / 5 from claims")
    # journeys: in order, no stage without the previous one completed before it
    assert one("select count(*) from care_journey_stages where completed_at < entered_at") == 0
    assert (
        one("""
        with s as (
            select *, case stage when 'screening' then 1 when 'diagnosis' then 2 when 'treatment' then 3 else 4 end as k
            from care_journey_stages
        )
        select count(*) from s as later
        left join s as earlier on earlier.patient_id = later.patient_id and earlier.k = later.k - 1
        where later.k > 1 and (earlier.completed_at is null or earlier.completed_at > later.entered_at)
    """)
        == 0
    )
    funnel = [one(f"select count(*) from care_journey_stages where stage = '{s}'") for s in DOMAINS["stage"]]
    assert funnel == sorted(funnel, reverse=True) and funnel[-1] > 0
    assert 0.6 < funnel[0] / 2000 < 0.75  # ~70% enter screening
    # calls: mostly weekdays and business hours
    assert one("select avg((dayofweek(called_at) in (0, 6))::int) from outreach_calls") < 0.12
    assert one("select avg((hour(called_at) between 8 and 19)::int) from outreach_calls") > 0.85


def test_activity_has_weekday_and_seasonal_patterns(clean: GenerateResult) -> None:
    events = load(clean.out, "engagement_events")
    weekday = events["event_at"].dt.day_of_week
    per_weekday = weekday.value_counts() / 1.0
    assert per_weekday[[5, 6]].mean() < 0.85 * per_weekday[[0, 1, 2, 3, 4]].mean()
    truth = pd.read_parquet(clean.truth_dir / "patient_truth.parquet")
    assert truth["engagement_level"].corr(truth["n_events"] / truth["n_events"].mean()) > 0


# ---------------------------------------------------------------------------------- churn signal


def churn_by_definition(out: Path) -> pd.DataFrame:
    """The study's churn flag recomputed from the raw events (not from ground truth)."""
    with duckdb.connect() as con:
        return con.execute(f"""
            with last_event as (
                select patient_id, max(cast(event_at as date)) as last_day
                from {reader(raw_path(out, "engagement_events"))} group by patient_id
            )
            select p.patient_id, p.primary_condition, p.location_type, p.referral_source,
                   cast(p.enrolled_at as date) as enrolled_day,
                   coalesce(date '{END}' - last_day, date '{END}' - cast(p.enrolled_at as date)) > 90 as churned
            from {reader(raw_path(out, "patients"))} as p left join last_event using (patient_id)
        """).fetchdf()


def test_churn_is_calibrated_to_the_study(clean: GenerateResult) -> None:
    churn = churn_by_definition(clean.out)
    overall = churn["churned"].mean()
    assert abs(overall - 0.74) < 0.04, overall
    by_condition = churn.groupby("primary_condition")["churned"].mean()
    assert by_condition.idxmax() == "depression"
    assert abs(by_condition["depression"] - 0.83) < 0.05, by_condition
    assert by_condition.drop("depression").max() < by_condition["depression"] - 0.04
    # never churned when enrolled within 90 days of the end
    recent = churn["enrolled_day"] >= pd.Timestamp(END - timedelta(days=90))
    assert recent.any() and not churn.loc[recent, "churned"].any()


def test_churn_truth_agrees_with_the_events(clean: GenerateResult) -> None:
    churn = churn_by_definition(clean.out).set_index("patient_id")
    truth = pd.read_parquet(clean.truth_dir / "patient_truth.parquet").set_index("patient_id")
    assert (truth.loc[churn.index, "is_churned_at_end"] == churn["churned"]).all()
    # survivors (no latent churn by the end) always have an event in the last 90 days
    survivors = truth["churn_date"].isna()
    assert survivors.any() and not truth.loc[survivors, "is_churned_at_end"].any()
    # churned patients have no event after their latent churn date
    events = load(clean.out, "engagement_events")
    churn_at = truth["churn_at"].reindex(events["patient_id"]).to_numpy()
    assert not (events["event_at"].to_numpy() >= churn_at).any()
    # the hazard decomposes into the documented terms
    terms = truth.filter(like="contrib_").sum(axis=1)
    assert np.allclose(terms, np.log(truth["churn_hazard_monthly"]))
    assert (truth["contrib_sex"] == 0).all()
    # higher latent engagement -> lower hazard -> less churn
    assert truth.groupby(truth["engagement_level"] > 1)["is_churned_at_end"].mean().diff().iloc[-1] < 0


def test_churn_contrasts_at_a_larger_sample(tmp_path: Path) -> None:
    """Rural vs urban and word_of_mouth vs doctor in the study's direction (expected churn)."""
    from carepulse.generate.calendar import Window
    from carepulse.generate.calibrate import expected_churn
    from carepulse.generate.patients import sample_patients

    window = Window(END)
    pf = sample_patients(60_000, window, seed=4)
    p = expected_churn(pf, window)
    assert abs(p.mean() - 0.74) < 0.015
    rural, urban = p[pf.location == 2].mean(), p[pf.location == 0].mean()
    wom, doctor = p[pf.referral == 1].mean(), p[pf.referral == 0].mean()
    assert 0.01 < rural - urban < 0.045, (rural, urban)
    assert 0.03 < wom - doctor < 0.07, (wom, doctor)


def test_oracle_is_calibrated_against_realised_outcomes(clean: GenerateResult) -> None:
    truth = pd.read_parquet(clean.truth_dir / "patient_truth.parquet")
    events = load(clean.out, "engagement_events")
    cutoff = date(2025, 6, 30)
    day = events["event_at"].dt.normalize()
    before = events[day <= pd.Timestamp(cutoff)].groupby("patient_id")["event_at"].max()
    active = before[(pd.Timestamp(cutoff) - before.dt.normalize()).dt.days <= 90].index
    in_horizon = set(
        events.loc[(day > pd.Timestamp(cutoff)) & (day <= pd.Timestamp(cutoff + timedelta(days=90))), "patient_id"]
    )
    label = pd.Series([pid not in in_horizon for pid in active], index=active, dtype=float)
    latent = oracle_churn_probability(truth, cutoff)
    bayes = oracle_churn_probability(truth, cutoff, last_event_at=before)
    assert latent.index.equals(pd.Index(truth["patient_id"]))
    late = truth.set_index("patient_id")["enrolled_at"] >= pd.Timestamp(cutoff + timedelta(days=1))
    assert latent[late.to_numpy()].isna().all() and latent[~late.to_numpy()].between(0, 1).all()
    for oracle in (latent, bayes):
        p = oracle.loc[active]
        assert abs(p.mean() - label.mean()) < 0.04, (p.mean(), label.mean())
        brier = ((p - label) ** 2).mean()
        assert brier < 0.5 * label.var()  # far better than the base rate
    assert ((latent.loc[active] - label) ** 2).mean() <= ((bayes.loc[active] - label) ** 2).mean()


def test_call_probabilities_are_the_ones_used(clean: GenerateResult) -> None:
    calls = load(clean.out, "outreach_calls")
    truth = pd.read_parquet(clean.truth_dir / "call_truth.parquet")
    merged = calls.merge(truth, on="call_id", validate="one_to_one")
    assert len(merged) == len(calls)
    p = merged["engage_probability"]
    assert p.between(0, 1, inclusive="neither").all()
    engaged = merged["outcome"] == "engaged"
    assert abs(engaged.mean() - p.mean()) < 0.03
    assert 0.25 <= engaged.mean() <= 0.35
    logit = merged.filter(like="logit_").sum(axis=1)
    assert np.allclose(1 / (1 + np.exp(-logit)), p)
    by_channel = merged.groupby("channel")["engage_probability"].mean()
    assert by_channel.idxmax() == "phone"
    # recent activity raises the chance of engagement
    assert p[merged["recent_events_30d"] > 5].mean() > p[merged["recent_events_30d"] == 0].mean()
    assert (calls.groupby("patient_id").size() > 1).mean() > 0.3


def test_provider_truth_is_the_claim_process_used(clean: GenerateResult) -> None:
    """provider_truth.parquet (the champion oracle's input): each provider's claims started
    inside its billing window, as many as claims_per_active_day x active days in
    expectation (the rates add up to the claims drawn), at the specialty's mean amount."""
    truth = pd.read_parquet(clean.truth_dir / "provider_truth.parquet")
    claims = load(clean.out, "claims").merge(truth, on="provider_id", validate="many_to_one")
    providers = load(clean.out, "providers")
    assert sorted(truth["provider_id"]) == sorted(providers["provider_id"])
    start = pd.to_datetime(claims["claim_start_date"])
    assert start.between(
        pd.to_datetime(claims["billing_start_date"]), pd.to_datetime(claims["billing_stop_date"])
    ).all()
    active_days = (pd.to_datetime(truth["billing_stop_date"]) - pd.to_datetime(truth["billing_start_date"])).dt.days + 1
    expected = (truth["claims_per_active_day"] * active_days).set_axis(truth["provider_id"])
    assert expected.sum() == pytest.approx(len(claims))
    realised = claims.groupby("provider_id").size().reindex(expected.index, fill_value=0)
    assert np.corrcoef(np.log1p(expected), np.log1p(realised))[0, 1] > 0.95
    # a Poisson count: the standardised residuals have variance about 1
    big = expected > 50
    assert 0.5 < (((realised - expected) / np.sqrt(expected))[big]).var() < 2.0
    paid = claims.groupby("specialty")["paid_amount"].mean() / claims.groupby("specialty")["mean_paid_per_claim"].mean()
    assert paid.between(0.85, 1.15).all()


def test_factor_weights_json_documents_signal_and_realised_values(clean: GenerateResult) -> None:
    doc = json.loads((clean.truth_dir / "factor_weights.json").read_text())
    assert doc["churn_model"]["weights"]["primary_condition"]["depression"] > 0
    assert doc["calibration_targets"]["overall_churn_at_end"] == 0.74
    realised = doc["realised"]
    assert realised["row_counts"] == clean.row_counts
    churn = churn_by_definition(clean.out)
    assert realised["overall_churn_at_end"] == pytest.approx(churn["churned"].mean(), abs=1e-4)


# ---------------------------------------------------------------------------------- dirty rows


def violations(out: Path, truth_dir: Path) -> dict[str, pd.DataFrame]:
    """Independent validator: per table, each row's record_key and the rules it breaks."""
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"create view raw_{table} as select * from {reader(raw_path(out, table))}")
    con.execute(
        f"create view clean_patients as select patient_id from read_parquet('{truth_dir}/patient_truth.parquet')"
    )
    ts = lambda c: f"try_cast({c} as timestamp)"  # noqa: E731
    dt = lambda c: f"try_cast({c} as date)"  # noqa: E731
    num = lambda c: f"try_cast({c} as double)"  # noqa: E731
    bad_parse = lambda c, f: f"({c} is not null and {f(c)} is null)"  # noqa: E731
    unknown = lambda c: f"lower(trim({c})) not in ({', '.join(repr(v) for v in DOMAINS[c])})"  # noqa: E731
    empty = lambda c: f"({c} is null or trim({c}) = '')"  # noqa: E731
    npi_ok = "regexp_matches(provider_id, '^[0-9]{10}$')"
    valid_providers = "(select provider_id from raw_providers where provider_id is not null)"
    checks = {
        "patients": (
            "patient_id",
            {
                "missing_key": empty("patient_id"),
                "unparseable_value": f"{bad_parse('birth_date', dt)} or {bad_parse('enrolled_at', ts)}",
                "unknown_value": f"{unknown('sex')} or {unknown('location_type')} or {unknown('referral_source')}",
                "impossible_date": f"{dt('birth_date')} < date '1900-01-01' or {dt('birth_date')} > cast({ts('enrolled_at')} as date)",
                "after_as_of": f"cast({ts('enrolled_at')} as date) > date '{END}'",
            },
        ),
        "engagement_events": (
            "event_id",
            {
                "missing_key": empty("event_id"),
                "unparseable_value": f"{bad_parse('event_at', ts)} or {bad_parse('revenue_usd', num)}",
                "unknown_value": unknown("event_type"),
                "impossible_date": f"{ts('event_at')} < date '2000-01-01'",
                "after_as_of": f"cast({ts('event_at')} as date) > date '{END}'",
                "negative_amount": f"{num('revenue_usd')} < 0",
                "orphan_reference": "patient_id not in (select patient_id from clean_patients)",
            },
        ),
        "care_journey_stages": (
            "patient_id || '|' || stage",
            {
                "unparseable_value": f"{bad_parse('entered_at', ts)} or {bad_parse('completed_at', ts)}",
                "unknown_value": unknown("stage"),
                "impossible_date": f"{ts('entered_at')} < date '2000-01-01'",
                "end_before_start": f"{ts('completed_at')} < {ts('entered_at')}",
                "after_as_of": f"cast(coalesce({ts('completed_at')}, {ts('entered_at')}) as date) > date '{END}'",
                "orphan_reference": "patient_id not in (select patient_id from clean_patients)",
            },
        ),
        "outreach_calls": (
            "call_id",
            {
                "missing_key": empty("call_id"),
                "unparseable_value": bad_parse("called_at", ts),
                "unknown_value": f"{unknown('channel')} or {unknown('outcome')}",
                "impossible_date": f"{ts('called_at')} < date '2000-01-01'",
                "after_as_of": f"cast({ts('called_at')} as date) > date '{END}'",
                "orphan_reference": "patient_id not in (select patient_id from clean_patients)",
            },
        ),
        "providers": (
            "provider_id",
            {
                "missing_key": empty("provider_id"),
                "invalid_npi": f"not {empty('provider_id')} and (not {npi_ok} or not is_valid_npi(provider_id))",
            },
        ),
        "claims": (
            "claim_id",
            {
                "missing_key": empty("claim_id"),
                "unparseable_value": " or ".join(
                    bad_parse(c, f)
                    for c, f in (
                        ("claim_start_date", dt),
                        ("claim_end_date", dt),
                        ("paid_amount", num),
                        ("deductible_amount", num),
                    )
                ),
                "impossible_date": f"{dt('claim_start_date')} < date '2000-01-01'",
                "end_before_start": f"{dt('claim_end_date')} < {dt('claim_start_date')}",
                "after_as_of": f"{dt('claim_end_date')} > date '{END}'",
                "negative_amount": f"{num('paid_amount')} < 0 or {num('deductible_amount')} < 0",
                "orphan_reference": f"patient_id not in (select patient_id from clean_patients) or provider_id not in {valid_providers}",
                "malformed_code": f"not regexp_matches(coalesce(diagnosis_code, ''), '{ICD10}')",
            },
        ),
    }
    con.create_function("is_valid_npi", lambda s: is_valid_npi(s), ["VARCHAR"], "BOOLEAN")
    out_frames = {}
    for table, (key, rules) in checks.items():
        flags = ", ".join(f'coalesce({cond}, false) as "{rule}"' for rule, cond in rules.items())
        frame = con.execute(f"select cast({key} as varchar) as record_key, {flags} from raw_{table}").fetchdf()
        names = list(rules)
        frame["rules"] = [
            tuple(r for r, f in zip(names, flags, strict=False) if f) for flags in frame[names].to_numpy()
        ]
        out_frames[table] = frame[["record_key", "rules"]]
    return out_frames


def check_dirty_result(result: GenerateResult, clean_result: GenerateResult | None = None) -> None:
    dirty = pd.read_parquet(result.truth_dir / "dirty_rows.parquet")
    assert list(dirty.columns) == ["table_name", "record_key", "rule"]
    found = violations(result.out, result.truth_dir)
    for table in TABLES:
        mine = dirty[dirty["table_name"] == table]
        rules = RULES[table]
        counts = Counter(mine["rule"])
        # every kind present, shares equal (round robin), total ~ rate x clean rows
        assert set(counts) == set(rules), (table, counts)
        assert max(counts.values()) - min(counts.values()) <= 1, (table, counts)
        clean_rows = result.row_counts[table] - len(mine)
        rate = result.realised["dirty_rate"]
        assert (
            len(mine) == max(len(rules), round(rate * clean_rows))
            or abs(len(mine) - rate * clean_rows) <= 1 + 0.02 * rate * clean_rows
        )
        frame = found[table]
        assert len(frame) == result.row_counts[table]
        # duplicates: keys seen twice are exactly the duplicate_key records, and rows are identical copies
        raw = load(result.out, table)
        has_key = frame["record_key"].notna() & (frame["record_key"].fillna("").str.strip() != "")
        key_counts = frame.loc[has_key, "record_key"].value_counts()
        duplicated = set(key_counts[key_counts > 1].index)
        assert duplicated == set(mine.loc[mine["rule"] == "duplicate_key", "record_key"]), table
        if duplicated:
            sub = raw[frame["record_key"].isin(duplicated).to_numpy()].astype(str)
            assert len(sub.drop_duplicates()) == len(duplicated), f"{table}: duplicates are not exact copies"
        # rows with a key: exactly the recorded rule (or none for clean rows)
        expected = dict(zip(mine["record_key"], mine["rule"], strict=False))
        keyed = frame[frame["record_key"].notna() & ~frame["record_key"].isin(duplicated)]
        keyed = keyed[keyed["record_key"].str.strip() != ""] if table != "care_journey_stages" else keyed
        for key, got in zip(keyed["record_key"], keyed["rules"], strict=False):
            want = (expected[key],) if key in expected else ()
            assert got == want, (table, key, got, want)
        assert all(r == () for r in frame.loc[frame["record_key"].isin(duplicated), "rules"]), table
        if "missing_key" in rules:
            missing = frame[frame["rules"].apply(lambda r: "missing_key" in r)]
            assert len(missing) == counts["missing_key"]
            assert all(r == ("missing_key",) for r in missing["rules"])
            assert mine.loc[mine["rule"] == "missing_key", "record_key"].isna().all()
    if clean_result is not None:
        # clean rows are unchanged apart from harmless case/whitespace variants in enumerations
        for table in TABLES:
            rows = {}
            for name, res in (("dirty", result), ("clean", clean_result)):
                frame = load(res.out, table)
                for column in DOMAINS:
                    if column in frame:
                        frame[column] = frame[column].str.strip().str.lower()
                rows[name] = Counter(map(tuple, frame.astype(str).to_numpy()))
            assert not (rows["clean"] - rows["dirty"]), f"{table}: clean rows changed"
            injected = sum((rows["dirty"] - rows["clean"]).values())
            assert injected == result.dirty_counts[table], table


def test_dirty_rows_csv_every_rule_once_and_exactly_once(dirty_csv: GenerateResult) -> None:
    assert all(raw_path(dirty_csv.out, t).suffix == ".csv" for t in TABLES)
    check_dirty_result(dirty_csv)


def test_dirty_rows_parquet_are_text_typed_and_valid(dirty_parquet: GenerateResult) -> None:
    types = {f.name: str(f.type) for f in pq.read_schema(dirty_parquet.out / "claims.parquet")}
    assert types["claim_start_date"] == "string" and types["paid_amount"] == "string"
    types = {f.name: str(f.type) for f in pq.read_schema(dirty_parquet.out / "engagement_events.parquet")}
    assert types["event_at"] == "string" and types["revenue_usd"] == "string"
    check_dirty_result(dirty_parquet)


def test_dirty_run_keeps_the_clean_rows(tmp_path: Path) -> None:
    clean_result = generate(scale=0.005, seed=21, out=tmp_path / "clean" / "raw", fmt="csv")
    dirty_result = generate(scale=0.005, seed=21, out=tmp_path / "dirty" / "raw", fmt="csv", dirty_rate=0.1)
    for table in TABLES:
        assert dirty_result.row_counts[table] == clean_result.row_counts[table] + dirty_result.dirty_counts[table]
    check_dirty_result(dirty_result, clean_result)
    patients = load(dirty_result.out, "patients")
    # harmless case/whitespace variants are sprinkled into clean rows
    assert (patients["location_type"].dropna() != patients["location_type"].dropna().str.strip().str.lower()).any()


def test_event_blocks_do_not_depend_on_processing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each block of patients has its own random streams: building blocks in any order or
    alone gives the same rows as the full run, so chunked or parallel work cannot change data."""
    from carepulse.generate import params
    from carepulse.generate.calendar import Window
    from carepulse.generate.events import generate_event_block
    from carepulse.generate.patients import sample_patients

    monkeypatch.setattr(params, "BLOCK_SIZE", 300)
    result = generate(scale=0.01, seed=8, out=tmp_path / "raw")
    events = pq.read_table(result.out / "engagement_events.parquet").to_pandas()
    window = Window(END)
    pf = sample_patients(1000, window, seed=8)
    blocks = [(b, b * 300, min((b + 1) * 300, 1000)) for b in range(4)]
    for block, lo, hi in reversed(blocks):
        eb = generate_event_block(pf, window, 8, block, lo, hi)
        ids = {f"P{i + 1:07d}" for i in range(lo, hi)}
        part = events[events["patient_id"].isin(ids)]
        assert len(part) == eb.n
        got = (part["event_at"] - pd.Timestamp("2024-01-01")).dt.total_seconds().astype("int64").to_numpy()
        assert (got == eb.ts_s).all()
