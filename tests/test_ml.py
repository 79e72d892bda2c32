"""The ML step end to end on generated data: real dbt, real DuckDB files, real models.

One small generated data set (scale 0.02) is built once with plain `dbt build`, as a user
would; two training runs with the same seed and a scoring after each are shared by the
tests. The leakage test rebuilds the feature models on the same data cut at a cutoff and
checks that nothing computed for that cutoff or earlier changes. Training uses smaller
forests and boosting than production (TrainConfig below) to keep the file fast; the
recipe, the candidates and the selection rule are the production ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_DIR, SessionBuild, query, run_dbt
from sklearn.metrics import roc_auc_score

from ml import writeback
from ml.config import CANDIDATES, TrainConfig
from ml.features import (
    CHURN_SPEC,
    ENGAGEMENT_SPEC,
    FeatureSpec,
    derive_churn_features,
    derive_engagement_features,
)
from ml.metrics import base_rate_brier, classification_metrics, lift_top_decile
from ml.modeling import risk_deciles
from ml.selection import CandidateResult, churn_time_split, select_candidate

SEED = 23  # the training seed
#: The leakage test cuts the data at the training cutoff (a calendar period end) this many
#: cutoffs back from the newest one.
CUT_PERIODS_BACK = 9
HORIZON = 90
FAST = TrainConfig(rf_trees=30, hgb_max_iter=80, importance_repeats=1)
FLAG_COLUMNS = ["is_scoring_cutoff", "is_labelled"]


def _cut_raw(raw: Path, out: Path, cut: date) -> Path:
    """The raw files as they would have looked at the end of `cut`: later rows dropped,
    completions after it blanked, claims not yet ended dropped (rows whose date does not
    parse are dropped too: they are quarantined in the full build as well)."""
    out.mkdir(parents=True, exist_ok=True)
    day = f"date '{cut.isoformat()}'"
    filters = {
        "patients": f"select * from src where try_cast(enrolled_at as date) <= {day}",
        "engagement_events": f"select * from src where try_cast(event_at as date) <= {day}",
        "outreach_calls": f"select * from src where try_cast(called_at as date) <= {day}",
        "care_journey_stages": (
            f"select * replace (case when try_cast(completed_at as date) <= {day} then completed_at end as completed_at) "
            f"from src where try_cast(entered_at as date) <= {day}"
        ),
        "claims": f"select * from src where try_cast(coalesce(claim_end_date, claim_start_date) as date) <= {day}",
        "providers": "select * from src",
    }
    con = duckdb.connect()
    try:
        for table, sql in filters.items():
            con.execute(f"create or replace view src as select * from read_parquet('{raw / f'{table}.parquet'}')")
            con.execute(f"copy ({sql}) to '{out / f'{table}.parquet'}' (format parquet)")
    finally:
        con.close()
    return out


@dataclass
class MLRuns:
    """A copy of the session's ML warehouse (conftest ml_session_warehouse: run A trained and
    scored) after a second training run B with the same data, settings and seed, scored."""

    raw: Path
    truth: Path
    db: Path
    model_dir: Path
    run_a: dict[str, Any]
    run_b: dict[str, Any]
    churn_a: pd.DataFrame
    churn_b: pd.DataFrame


@pytest.fixture(scope="module")
def ml_raw(small_raw: Path) -> Path:
    """The session's generated data (conftest SESSION_*: scale 0.02, with bad rows)."""
    return small_raw


@pytest.fixture(scope="module")
def plain_build(small_build: SessionBuild) -> SessionBuild:
    """Plain `dbt build` on a fresh database, as a user runs it before any ML step: the
    session's build. Not checked here: test_plain_dbt_build_succeeds_without_ml_tables
    reports its outcome."""
    return small_build


@pytest.fixture(scope="module")
def ml_warehouse(small_warehouse: Path) -> Path:
    """The ML inputs (feature marts) as plain `dbt build` wrote them; read only."""
    return small_warehouse


@pytest.fixture(scope="module")
def ml_runs(ml_raw: Path, ml_session_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> MLRuns:
    from ml.score import score
    from ml.train import train

    base = tmp_path_factory.mktemp("ml_runs")
    db = base / ml_session_warehouse.name
    shutil.copy2(ml_session_warehouse, db)
    model_dir = Path(shutil.copytree(ml_session_warehouse.parent / "models", base / "models"))
    first = query(db, "select run_id, data_fingerprint from ml.model_runs_current").iloc[0]
    run_a = {"run_id": first["run_id"], "fingerprint": first["data_fingerprint"]}
    churn_a = query(db, "select * from ml.churn_predictions_current order by patient_id")
    run_b = train(db, model_dir, seed=SEED, config=FAST, progress=lambda _: None)
    score(db, model_dir, progress=lambda _: None)
    churn_b = query(db, "select * from ml.churn_predictions_current order by patient_id")
    return MLRuns(ml_raw, ml_raw.parent / "ground_truth", db, model_dir, run_a, run_b, churn_a, churn_b)


# --------------------------------------------------------------------------- pure functions
def test_churn_time_split_closes_training_labels_before_the_test_cutoff() -> None:
    months = [date(2024, m, 28) for m in range(1, 13)]
    split = churn_time_split(months, HORIZON)
    assert split.test_cutoff == months[-1]
    assert split.train_cutoffs and all(c + timedelta(days=HORIZON) <= split.test_cutoff for c in split.train_cutoffs)
    # the two cutoffs whose 90-day windows are still open on the test date are left out
    assert set(months) - set(split.train_cutoffs) - {split.test_cutoff} == {months[-3], months[-2]}
    with pytest.raises(ValueError, match="label window"):
        churn_time_split(months[-3:], HORIZON)


def _random_rows(spec: FeatureSpec, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: rng.integers(0, 200, n).astype(float) for c in spec.numeric})
    for column in spec.categorical:
        frame[column] = rng.choice(["a", "b", None], n)
    frame.loc[::7, spec.numeric[-1]] = np.nan
    return frame


@pytest.mark.parametrize(
    ("spec", "derive"), [(CHURN_SPEC, derive_churn_features), (ENGAGEMENT_SPEC, derive_engagement_features)]
)
def test_derived_features_are_row_wise(spec: FeatureSpec, derive: Any) -> None:
    """A row's derived features must not depend on the other rows (no cross-row peeking,
    e.g. a median over the batch): deriving the whole frame equals deriving each row alone."""
    frame = _random_rows(spec, 30, seed=1)
    whole = derive(frame[spec.columns])
    alone = pd.concat([derive(frame[spec.columns].iloc[[i]]) for i in range(len(frame))])
    pd.testing.assert_frame_equal(whole, alone)
    assert whole.notna().all().all()  # nulls are resolved row by row, never left to the estimator


def test_risk_deciles_put_the_highest_probabilities_in_decile_10() -> None:
    probability = np.linspace(0, 1, 95)[::-1]
    deciles = risk_deciles(probability, np.array([f"P{i:03d}" for i in range(95)]))
    assert set(deciles) == set(range(1, 11))
    assert deciles[0] == 10 and deciles[-1] == 1
    assert np.all(np.diff(deciles) <= 0)  # probability falls, decile never rises


def test_metrics_against_hand_computed_values() -> None:
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.1, 0.2, 0.1, 0.4])
    m = classification_metrics(y, p, threshold=0.5)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(0.8)
    assert lift_top_decile(y, p) == pytest.approx(1 / 0.3)  # top 1 of 10 is a positive
    assert m["brier"] < base_rate_brier(y)


def test_selection_prefers_the_simpler_model_within_the_margin() -> None:
    def result(name: str, auc: float) -> CandidateResult:
        return CandidateResult(name, {"roc_auc": auc}, 0.0, "sigmoid", np.array([]))

    results = [
        result("logistic_regression", 0.800),
        result("random_forest", 0.803),
        result("hist_gradient_boosting", 0.830),
    ]
    assert select_candidate(results, "roc_auc", 0.005).estimator == "hist_gradient_boosting"
    results[2] = result("hist_gradient_boosting", 0.804)
    assert select_candidate(results, "roc_auc", 0.005).estimator == "logistic_regression"
    results[0] = result("logistic_regression", float("nan"))
    assert select_candidate(results, "roc_auc", 0.005).estimator == "random_forest"


# --------------------------------------------------------------------------- warehouse
def test_leakage_features_do_not_change_when_later_data_is_removed(
    ml_raw: Path, ml_warehouse: Path, tmp_path: Path
) -> None:
    """Rebuild the feature and label models on the data as it was at a cutoff cut_date (later
    rows removed, as-of = cut_date). Every feature of every cutoff up to cut_date, every label whose
    window closed by cut_date and every call's features must be identical: any feature that
    peeked past its cutoff (or call time) would see different data and differ here. In the cut
    warehouse cut_date is the as-of date, so its row there is the scoring row (windows summed by
    day) while the full warehouse's is a training cutoff's (sums of calendar periods): the two
    ways must agree."""
    cutoffs = query(
        ml_warehouse,
        "select cutoff_date from marts.feature_cutoffs where not is_scoring_cutoff order by cutoff_date desc",
    )
    cut_date = pd.Timestamp(cutoffs["cutoff_date"].iloc[CUT_PERIODS_BACK - 1]).date()
    cut_raw = _cut_raw(ml_raw, tmp_path / "raw_cut", cut_date)
    cut_db = tmp_path / "cut" / "carepulse.duckdb"
    run_dbt(
        [
            "build",
            "--select",
            "+outreach_call_features",
            "+patient_churn_labels_by_cutoff",
            "+journey_dropout_features_by_cutoff",
            "--exclude",
            "resource_type:test",
        ],
        cut_raw,
        cut_db,
        as_of=cut_date.isoformat(),
    )
    day = f"date '{cut_date.isoformat()}'"

    # the later data exists in the full warehouse: a look-ahead would have something to see
    later = query(
        ml_warehouse,
        f"select count(*) as n from intermediate.int_engagement_events_accepted where cast(event_at as date) > {day}",
    )["n"][0]
    assert later > 1000

    def features(db: Path) -> pd.DataFrame:
        frame = query(db, f"select * from marts.patient_features_by_cutoff where cutoff_date <= {day}")
        return frame.drop(columns=FLAG_COLUMNS).sort_values(["cutoff_date", "patient_id"]).reset_index(drop=True)

    full, cut = features(ml_warehouse), features(cut_db)
    assert len(cut) > 1000 and cut["cutoff_date"].nunique() >= 10
    pd.testing.assert_frame_equal(full, cut, check_dtype=False)

    def labels(db: Path) -> pd.DataFrame:
        frame = query(db, f"select * from marts.patient_churn_labels_by_cutoff where label_window_end <= {day}")
        return frame.sort_values(["cutoff_date", "patient_id"]).reset_index(drop=True)

    full_labels, cut_labels = labels(ml_warehouse), labels(cut_db)
    assert len(cut_labels) > 500 and cut_labels["is_churned"].any() and not cut_labels["is_churned"].all()
    pd.testing.assert_frame_equal(full_labels, cut_labels, check_dtype=False)

    def calls(db: Path) -> pd.DataFrame:
        frame = query(
            db,
            "select * from marts.outreach_call_features "
            f"where anchor_type = 'observed_call' and cast(called_at as date) <= {day}",
        )
        return frame.sort_values("anchor_id").reset_index(drop=True)

    full_calls, cut_calls = calls(ml_warehouse), calls(cut_db)
    assert len(cut_calls) > 500
    pd.testing.assert_frame_equal(full_calls, cut_calls, check_dtype=False)

    def pathway(db: Path) -> pd.DataFrame:
        """The dropout model's rows up to the cut: features always, labels once their window closed."""
        frame = query(db, f"select * from marts.journey_dropout_features_by_cutoff where cutoff_date <= {day}")
        frame = frame.drop(columns=["is_scoring_cutoff", "is_labelled"]).astype({"is_dropped_out": object})
        window_end = pd.to_datetime(frame["dropout_window_end"])
        closed = window_end.dt.date <= cut_date
        frame.loc[~closed, "is_dropped_out"] = None
        # the next progress date runs to the as-of date (like next_active_date); compare it inside the window
        frame.loc[~closed | (pd.to_datetime(frame["next_pathway_date"]) > window_end), "next_pathway_date"] = pd.NaT
        return frame.sort_values(["cutoff_date", "patient_id"]).reset_index(drop=True)

    full_pathway, cut_pathway = pathway(ml_warehouse), pathway(cut_db)
    assert len(cut_pathway) > 500 and cut_pathway["is_dropped_out"].notna().sum() > 200
    pd.testing.assert_frame_equal(full_pathway, cut_pathway, check_dtype=False)


def test_features_at_the_scoring_cutoff_match_the_raw_events(ml_warehouse: Path, raw_events: pd.DataFrame) -> None:
    """Window features recomputed in pandas from the raw files: events in the 90 days up to
    the cutoff and since enrolment, and revenue over 360 days."""
    from ml.io import FEATURES

    features = query(ml_warehouse, f"select * from {FEATURES} where is_scoring_cutoff")
    cutoff = pd.Timestamp(features["cutoff_date"].iloc[0])
    assert features["cutoff_date"].nunique() == 1 and len(features) > 500
    up_to = raw_events[raw_events["day"] <= cutoff]
    for column, days, measure in [
        ("events_90d", 90, "size"),
        ("events_total", None, "size"),
        ("revenue_360d", 360, "revenue"),
    ]:
        rows = up_to if days is None else up_to[up_to["day"] > cutoff - pd.Timedelta(days=days)]
        grouped = rows.groupby("patient_id")
        per_patient = grouped.size() if measure == "size" else grouped["revenue"].sum()
        expected = features["patient_id"].map(per_patient).fillna(0)
        assert expected.sum() > 0
        np.testing.assert_allclose(features[column].astype(float), expected, atol=0.005, err_msg=column)


def test_training_periods_respect_time(ml_runs: MLRuns) -> None:
    runs = query(ml_runs.db, "select * from ml.model_runs").set_index(["run_id", "model_name"])
    for run_id in (ml_runs.run_a["run_id"], ml_runs.run_b["run_id"]):
        churn = runs.loc[(run_id, "churn")]
        assert pd.Timestamp(churn["train_end"]) + pd.Timedelta(days=HORIZON) <= pd.Timestamp(churn["test_start"])
        assert pd.Timestamp(churn["test_start"]) + pd.Timedelta(days=HORIZON) <= pd.Timestamp(churn["as_of_date"])
        assert churn["train_periods"] >= 6
        engagement = runs.loc[(run_id, "engagement")]
        assert pd.Timestamp(engagement["train_end"]) < pd.Timestamp(engagement["test_start"])
    holdout = query(ml_runs.db, "select * from ml.holdout_predictions_current where model_name = 'churn'")
    assert holdout["example_date"].nunique() == 1


def test_same_data_and_seed_give_the_same_predictions(ml_runs: MLRuns) -> None:
    assert ml_runs.run_a["run_id"] != ml_runs.run_b["run_id"]
    assert ml_runs.run_a["fingerprint"] == ml_runs.run_b["fingerprint"]
    a, b = ml_runs.churn_a, ml_runs.churn_b
    assert (
        len(a) > 100 and set(a["run_id"]) == {ml_runs.run_a["run_id"]} and set(b["run_id"]) == {ml_runs.run_b["run_id"]}
    )
    columns = ["patient_id", "probability", "risk_decile", "risk_band", "top_factor_1", "top_factors"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    engagement = query(
        ml_runs.db,
        "select run_id, patient_id, probability, best_channel from ml.engagement_predictions order by patient_id, run_id",
    )
    by_run = {run: frame.drop(columns="run_id").reset_index(drop=True) for run, frame in engagement.groupby("run_id")}
    pd.testing.assert_frame_equal(by_run[ml_runs.run_a["run_id"]], by_run[ml_runs.run_b["run_id"]])
    metrics = query(ml_runs.db, "select run_id, model_name, estimator, roc_auc, brier, log_loss from ml.model_runs")
    per_run = [
        frame.drop(columns="run_id").sort_values("model_name").reset_index(drop=True)
        for _, frame in metrics.groupby("run_id")
    ]
    pd.testing.assert_frame_equal(per_run[0], per_run[1])


def test_writeback_types_history_and_current_views(ml_runs: MLRuns) -> None:
    db = ml_runs.db
    types = query(
        db, "select table_name, column_name, data_type from information_schema.columns where table_schema = 'ml'"
    )
    t = {(r.table_name, r.column_name): r.data_type for r in types.itertuples()}
    for table in ("churn_predictions", "engagement_predictions"):
        assert t[(table, "probability")] == "DOUBLE"
        assert t[(table, "as_of_date")] == "DATE"
        assert t[(table, "risk_decile")] == "INTEGER"
        assert t[(table, "run_id")] == "VARCHAR"
    assert t[("model_runs", "trained_at")] == "TIMESTAMP" and t[("model_runs", "train_rows")] == "BIGINT"
    assert t[("feature_importance", "rank")] == "INTEGER"

    runs = query(db, "select run_id, model_name from ml.model_runs")
    # history kept: both runs, each with every model it trains (churn, engagement, segments)
    assert runs["run_id"].nunique() == 2 and {"churn", "engagement"} <= set(runs["model_name"])
    assert len(runs) == 2 * runs["model_name"].nunique()
    current = query(db, "select run_id from ml.model_runs_current")
    assert set(current["run_id"]) == {ml_runs.run_b["run_id"]}
    batches = query(
        db,
        "select run_id, as_of_date, count(*) as n, count(distinct scored_at) as s from ml.churn_predictions group by all",
    )
    assert len(batches) == 2 and set(batches["s"]) == {1}  # one batch per run, one run_id per batch

    # every patient not churned at the as-of date is scored, once, by both models
    active = query(db, "select patient_id from marts.patient_churn where not is_churned")
    assert set(ml_runs.churn_b["patient_id"]) == set(active["patient_id"])
    engagement = query(db, "select * from ml.engagement_predictions_current")
    assert set(engagement["patient_id"]) == set(active["patient_id"])
    best = engagement[["probability_phone", "probability_sms", "probability_email"]].max(axis=1)
    assert np.allclose(engagement["probability"], best)
    assert json.loads(engagement["top_factors"].iloc[0]) is not None

    deciles = ml_runs.churn_b.groupby("risk_decile")["probability"].agg(["min", "max"])
    assert list(deciles.index) == list(range(1, 11))
    assert (deciles["min"].to_numpy()[1:] >= deciles["max"].to_numpy()[:-1]).all()

    importance = query(db, "select * from ml.feature_importance_current where method = 'permutation_roc_auc'")
    # dropout and champion have their own tests (tests/test_ml_pathway_models.py)
    assert set(importance["model_name"]) == {"churn", "engagement", "dropout", "champion"}
    assert (importance.groupby("model_name")["rank"].min() == 1).all()


def test_failed_write_leaves_no_partial_rows(ml_runs: MLRuns) -> None:
    db = ml_runs.db
    before = {t: query(db, f"select count(*) as n from ml.{t}")["n"][0] for t in ("model_runs", "churn_predictions")}
    current_before = query(db, "select run_id from ml.model_runs_current")
    run_row = query(db, f"select * from ml.model_runs where run_id = '{ml_runs.run_b['run_id']}'")
    run_row["run_id"] = "20990101T000000000000Z-deadbeef"
    bad = ml_runs.churn_b.copy().head(5)
    bad["run_id"] = "20990101T000000000000Z-deadbeef"
    bad.loc[bad.index[2], "probability"] = 1.5  # the database refuses it mid-transaction
    with pytest.raises(duckdb.ConstraintException):
        writeback.write_tables(db, {"model_runs": run_row, "churn_predictions": bad})
    after = {t: query(db, f"select count(*) as n from ml.{t}")["n"][0] for t in ("model_runs", "churn_predictions")}
    assert after == before
    pd.testing.assert_frame_equal(query(db, "select run_id from ml.model_runs_current"), current_before)


def test_train_refuses_an_as_of_after_the_warehouse(ml_runs: MLRuns, tmp_path: Path) -> None:
    from ml.train import train

    runs_before = query(ml_runs.db, "select count(*) as n from ml.model_runs")["n"][0]
    with pytest.raises(ValueError, match="after the warehouse"):
        train(ml_runs.db, tmp_path, as_of=date(2030, 1, 1), config=FAST, progress=lambda _: None)
    assert query(ml_runs.db, "select count(*) as n from ml.model_runs")["n"][0] == runs_before
    assert not list(tmp_path.glob("*.joblib"))


def accepted_raw(raw: Path, table: str, key: str) -> pd.DataFrame:
    """The rows of a raw file the quarantine should accept, from the file and the generator's
    list of injected bad rows (not from the warehouse): bad rows carry keys of their own or
    none, and a duplicate shares its clean row's key (the first one is kept)."""
    frame = pd.read_parquet(raw / f"{table}.parquet")
    dirty = pd.read_parquet(raw.parent / "ground_truth" / "dirty_rows.parquet")
    bad = dirty.loc[(dirty["table_name"] == table) & (dirty["rule"] != "duplicate_key"), "record_key"].dropna()
    frame = frame[frame[key].notna() & (frame[key] != "") & ~frame[key].isin(set(bad))]
    return frame.drop_duplicates(subset=[key])


@pytest.fixture(scope="module")
def raw_events(ml_raw: Path) -> pd.DataFrame:
    events = accepted_raw(ml_raw, "engagement_events", "event_id")
    return events.assign(
        day=pd.to_datetime(events["event_at"]).dt.normalize(), revenue=events["revenue_usd"].astype(float)
    )


def test_holdout_labels_and_metrics_match_an_independent_computation(ml_runs: MLRuns, raw_events: pd.DataFrame) -> None:
    """Held-out labels recomputed from the raw files, ROC AUC with sklearn from them."""
    runs = query(ml_runs.db, "select * from ml.model_runs_current").set_index("model_name")
    holdout = query(ml_runs.db, "select * from ml.holdout_predictions_current")

    churn = holdout[holdout["model_name"] == "churn"].reset_index(drop=True)
    cutoff = pd.Timestamp(churn["example_date"].iloc[0])
    assert churn["example_date"].nunique() == 1 and len(churn) > 300
    # Churned: no accepted event in (cutoff, cutoff + horizon].
    window = raw_events[(raw_events["day"] > cutoff) & (raw_events["day"] <= cutoff + pd.Timedelta(days=HORIZON))]
    expected = ~churn["patient_id"].isin(set(window["patient_id"]))
    assert 0 < expected.sum() < len(expected)
    assert (churn["label"] == expected).all(), churn[churn["label"] != expected].head()
    assert runs.loc["churn", "roc_auc"] == pytest.approx(roc_auc_score(expected, churn["probability"]), abs=1e-12)
    assert runs.loc["churn", "roc_auc"] >= 0.8

    engagement = holdout[holdout["model_name"] == "engagement"].reset_index(drop=True)
    calls = accepted_raw(ml_runs.raw, "outreach_calls", "call_id").set_index("call_id")
    assert engagement["example_id"].isin(calls.index).all() and len(engagement) > 100
    engaged = engagement["example_id"].map(calls["outcome"].str.strip().str.lower()) == "engaged"
    assert (engagement["label"] == engaged).all()
    auc = roc_auc_score(engaged, engagement["probability"])
    assert runs.loc["engagement", "roc_auc"] == pytest.approx(auc, abs=1e-12) and auc >= 0.6

    # Against the generator's truth on the same examples (its own probabilities, scored here).
    from carepulse.generate import oracle_churn_probability

    truth = pd.read_parquet(ml_runs.truth / "patient_truth.parquet")
    oracle = churn["patient_id"].map(oracle_churn_probability(truth, cutoff.date(), HORIZON))
    assert oracle.notna().all()
    assert roc_auc_score(expected, oracle) - runs.loc["churn", "roc_auc"] < 0.1
    call_truth = pd.read_parquet(ml_runs.truth / "call_truth.parquet").set_index("call_id")["engage_probability"]
    assert roc_auc_score(engaged, engagement["example_id"].map(call_truth)) - auc < 0.1
    base_rate = expected.mean()
    assert runs.loc["churn", "brier"] < 0.8 * base_rate * (1 - base_rate)


#: README: "a simpler candidate within 0.005 of the best wins"; simplest first.
SIMPLEST_FIRST = ("logistic_regression", "random_forest", "hist_gradient_boosting")


def test_candidates_compared_and_selected_by_the_documented_rule(ml_runs: MLRuns) -> None:
    # the classifiers; clustering (segments) has no ROC AUC and its own test
    # dropout (LR vs boosting, study 001) and champion are checked in tests/test_ml_pathway_models.py
    candidates = query(
        ml_runs.db,
        "select * from ml.model_candidates_current where roc_auc is not null and model_name in ('churn', 'engagement')",
    )
    runs = query(ml_runs.db, "select * from ml.model_runs_current").set_index("model_name")
    assert set(candidates["model_name"]) == {"churn", "engagement"}
    for model_name, group in candidates.groupby("model_name"):
        assert set(group["estimator"]) == set(SIMPLEST_FIRST) == set(CANDIDATES)
        assert group["is_selected"].sum() == 1
        auc = group.set_index("estimator")["roc_auc"].dropna()
        expected = next(name for name in SIMPLEST_FIRST if name in auc.index and auc[name] >= auc.max() - 0.005)
        assert group.loc[group["is_selected"], "estimator"].item() == expected == runs.loc[model_name, "estimator"]


def test_score_reuses_a_saved_model_and_replaces_its_batch(ml_runs: MLRuns) -> None:
    from ml.score import score

    run_a = ml_runs.run_a["run_id"]
    rows_before = query(ml_runs.db, "select count(*) as n from ml.churn_predictions")["n"][0]
    result = score(ml_runs.db, ml_runs.model_dir, run_id=run_a, progress=lambda _: None)
    assert result["run_id"] == run_a
    assert query(ml_runs.db, "select count(*) as n from ml.churn_predictions")["n"][0] == rows_before
    current = query(ml_runs.db, "select * from ml.churn_predictions_current order by patient_id")
    assert set(current["run_id"]) == {run_a}
    np.testing.assert_array_equal(current["probability"].to_numpy(), ml_runs.churn_a["probability"].to_numpy())


def _worklist_inputs(db: Path, raw_events: pd.DataFrame) -> pd.DataFrame:
    """Per scored patient: P(churn) and P(engage) of the current predictions, and the value
    (revenue of the raw accepted events in the RFM window of 365 days up to the as-of date)."""
    churn = query(db, "select patient_id, as_of_date, probability as churn from ml.churn_predictions_current")
    engage = query(db, "select patient_id, probability as engage from ml.engagement_predictions_current")
    as_of = pd.Timestamp(churn["as_of_date"].iloc[0])
    window = raw_events[(raw_events["day"] > as_of - pd.Timedelta(days=365)) & (raw_events["day"] <= as_of)]
    value = window.groupby("patient_id")["revenue"].sum()
    inputs = churn.merge(engage, on="patient_id").set_index("patient_id")
    return inputs.assign(value=value.reindex(inputs.index).fillna(0.0))


def test_post_ml_marts_rank_by_expected_value_and_follow_the_vars(
    ml_runs: MLRuns, ml_session_warehouse: Path, raw_events: pd.DataFrame
) -> None:
    # The session warehouse after its ML step and post-ML build (the ml source tests and
    # the outreach marts passed there), with the default vars.
    worklist = query(ml_session_warehouse, "select * from marts.outreach_priority order by priority_rank")
    churn = query(ml_session_warehouse, "select * from ml.churn_predictions_current")
    assert len(worklist) == len(churn) and worklist["patient_id"].is_unique
    assert worklist["expected_value"].is_monotonic_decreasing
    # Inputs from the ml tables and the raw events, not from the worklist's own columns.
    inputs = _worklist_inputs(ml_session_warehouse, raw_events).reindex(worklist["patient_id"])
    expected = (inputs["churn"] * inputs["engage"] * 0.25 * inputs["value"] - 15).to_numpy()
    np.testing.assert_allclose(worklist["expected_value"], expected, atol=1e-6)
    np.testing.assert_allclose(worklist["patient_value"], inputs["value"].to_numpy(), atol=0.005)
    assert worklist["intervention"].notna().all()
    top = worklist[worklist["churn_risk_band"] == "high"]
    assert len(top) > 0 and (top["intervention"] != "loyalty_and_referral").all()

    # Other vars, on the warehouse of a later ML run: the marts follow both.
    top_n, save_rate = 25, 0.5
    run_dbt(
        ["run", "--select", "outreach_priority", "intervention_impact"],
        ml_runs.raw,
        ml_runs.db,
        dbt_vars={"intervention_top_n": top_n, "outreach_save_rate": save_rate},
    )
    impact = query(ml_runs.db, "select * from marts.intervention_impact").iloc[0]
    # The top N by expected value, ranked here from the independent inputs.
    inputs = _worklist_inputs(ml_runs.db, raw_events)
    inputs = inputs.assign(ev=inputs["churn"] * inputs["engage"] * save_rate * inputs["value"] - 15)
    head = inputs.reset_index().sort_values(["ev", "churn", "patient_id"], ascending=[False, False, True]).head(top_n)
    worklist = query(ml_runs.db, "select * from marts.outreach_priority order by priority_rank")
    assert worklist["patient_id"].head(top_n).tolist() == head["patient_id"].tolist()
    assert impact["patients_contacted"] == top_n and impact["save_rate"] == save_rate
    avoided = (head["churn"] * head["engage"] * save_rate).sum()
    assert impact["churners_avoided"] == pytest.approx(avoided)
    saved = (head["churn"] * head["engage"] * save_rate * head["value"]).sum()
    assert impact["revenue_retained"] == pytest.approx(saved)
    assert impact["net_value"] == pytest.approx(impact["revenue_retained"] - 15 * top_n)
    assert impact["churn_rate_with_outreach"] < impact["churn_rate_without_outreach"]


def test_cli_reports_a_plain_error_and_non_zero_exit(tmp_path: Path) -> None:
    env = dict(os.environ, CAREPULSE_DB=str(tmp_path / "missing.duckdb"), CAREPULSE_MODEL_DIR=str(tmp_path / "m"))
    result = subprocess.run(
        [sys.executable, "-m", "ml", "train"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "ml train failed" in result.stderr and "dbt build" in result.stderr
    assert "Traceback" not in result.stderr


def test_plain_dbt_build_succeeds_without_ml_tables(plain_build: SessionBuild) -> None:
    """`dbt build` on a fresh database must not need the ml tables: the default selector
    (selectors.yml) leaves out the post-ML marts and the ml source tests."""
    result = plain_build.result
    assert result.returncode == 0, result.stdout[-3000:]
    assert "outreach_priority" not in result.stdout and "source_not_null_ml_" not in result.stdout
    assert "patient_features_by_cutoff" in result.stdout
