"""The benchmark's baselines: what the same work costs without dbt, and a single model fit.

* `floor`: bench/floor.sql, the core marts as one plain DuckDB script over the same raw
  files (typed and validated as the warehouse does). dbt build / floor is the price of
  tests, audit, contracts and one-table-per-model.
* `pandas`: the studies' notebook approach, pandas over the raw files (churn and drivers,
  RFM quintiles, provider segments and ROI); compared with the dbt models that make the
  same marts.
* `lr`: one logistic-regression fit on each model's training frame, as the ML step reads
  it; ML train / this is the price of comparing candidates, calibrating and explaining.

Each runs as `python -m carepulse.baselines <name> ...` under carepulse.measure, so each
gets its own wall time and peak memory. They print one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from carepulse.config import DEFAULT_MEMORY_LIMIT, PROJECT_DIR, RAW_TABLES

FLOOR_SQL = PROJECT_DIR / "bench" / "floor.sql"
SEEDS_DIR = PROJECT_DIR / "seeds"


def raw_file(raw_dir: Path, table: str) -> Path:
    """<table>.parquet, else <table>.csv (the raw input contract's precedence)."""
    for extension in ("parquet", "csv"):
        path = Path(raw_dir) / f"{table}.{extension}"
        if path.exists():
            return path
    raise FileNotFoundError(f"raw input file missing: {raw_dir}/{table}.parquet or .csv")


def _reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', header = true, all_varchar = true)"


def register_raw_views(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> None:
    """Views raw_<table> with every column as text, as the dbt hook registers them."""
    for table in RAW_TABLES:
        reader = _reader(raw_file(raw_dir, table))
        columns = [row[0] for row in con.execute(f"describe select * from {reader}").fetchall()]
        select = ", ".join(f'cast("{c}" as varchar) as "{c.lower()}"' for c in columns)
        con.execute(f"create or replace view raw_{table} as select {select} from {reader}")


def floor_statements(sql: str) -> list[str]:
    """The script's statements, comments dropped (a ';' in a comment would split one)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def run_floor(
    raw_dir: Path, db_path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = 2
) -> dict[str, Any]:
    """Build the floor tables into db_path (replaced); seconds per statement's table."""
    Path(db_path).unlink(missing_ok=True)
    con = duckdb.connect(str(db_path), config={"memory_limit": memory_limit, "threads": threads})
    timings: dict[str, float] = {}
    try:
        register_raw_views(con, raw_dir)
        for statement in floor_statements(FLOOR_SQL.read_text().replace("{seeds}", str(SEEDS_DIR))):
            started = time.perf_counter()
            con.execute(statement)
            words = [w for w in statement.split()[:6] if w not in ("or", "replace", "temp")]
            name = words[2] if words[0] == "create" and len(words) > 2 else words[0]
            timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - started, 3)
            print(f"floor: {name} {timings[name]:.2f}s", file=sys.stderr, flush=True)
    finally:
        con.close()
    return {"seconds_by_table": timings}


# --------------------------------------------------------------------------- pandas
def _read(raw_dir: Path, table: str, columns: list[str]) -> pd.DataFrame:
    path = raw_file(raw_dir, table)
    if path.suffix == ".parquet":
        return pd.read_parquet(path, columns=columns)
    return pd.read_csv(path, usecols=columns, dtype=str)


def run_pandas(raw_dir: Path) -> dict[str, Any]:
    """Churn and drivers, RFM quintiles, provider segments and ROI the notebook way.

    As the studies did: load whole files, coerce types, drop what does not parse, group.
    No quarantine, duplicates or orphan checks, so on dirty data its figures may differ
    from the marts' a little; the benchmark reports them side by side.
    """
    patients = _read(
        raw_dir, "patients", ["patient_id", "enrolled_at", "primary_condition", "location_type", "referral_source"]
    )
    events = _read(raw_dir, "engagement_events", ["patient_id", "event_at", "revenue_usd"])
    claims = _read(raw_dir, "claims", ["provider_id", "claim_end_date", "paid_amount"])
    patients["enrolled_at"] = pd.to_datetime(patients["enrolled_at"], errors="coerce")
    events["event_at"] = pd.to_datetime(events["event_at"], errors="coerce")
    events["revenue_usd"] = pd.to_numeric(events["revenue_usd"], errors="coerce").fillna(0.0)
    claims["claim_end_date"] = pd.to_datetime(claims["claim_end_date"], errors="coerce")
    claims["paid_amount"] = pd.to_numeric(claims["paid_amount"], errors="coerce")
    events = events.dropna(subset=["event_at"])
    claims = claims.dropna(subset=["claim_end_date", "paid_amount"])
    as_of = max(events["event_at"].max().normalize(), claims["claim_end_date"].max())

    # churn: more than 90 days since the last event (or enrolment)
    last = events.groupby("patient_id")["event_at"].max().dt.normalize()
    people = patients.set_index("patient_id")
    since = last.reindex(people.index).fillna(people["enrolled_at"].dt.normalize())
    people["is_churned"] = (as_of - since).dt.days > 90
    drivers = {
        dimension: people.groupby(dimension)["is_churned"].mean().round(4).to_dict()
        for dimension in ("primary_condition", "location_type", "referral_source")
    }

    # RFM: quintiles of recency, frequency and spend over the last 365 days
    window = events[events["event_at"].dt.normalize() > as_of - pd.Timedelta(days=365)]
    rfm = pd.DataFrame(index=people.index)
    rfm["recency"] = (as_of - last.reindex(people.index)).dt.days
    rfm["frequency"] = window.groupby("patient_id").size().reindex(people.index).fillna(0)
    rfm["monetary"] = window.groupby("patient_id")["revenue_usd"].sum().reindex(people.index).fillna(0)
    rfm["r"] = pd.qcut(rfm["recency"].fillna(rfm["recency"].max() + 1).rank(method="first"), 5, labels=[5, 4, 3, 2, 1])
    rfm["f"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    rfm["m"] = pd.qcut(rfm["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    segment_map = pd.read_csv(SEEDS_DIR / "patients" / "rfm_segment_map.csv")
    rfm = rfm.astype({"r": int, "f": int, "m": int}).merge(
        segment_map, left_on=["r", "f", "m"], right_on=["r_score", "f_score", "m_score"], how="left"
    )

    # provider segments (the study's rules, first match wins) and ROI
    providers = (
        claims[claims["claim_end_date"] <= as_of]
        .groupby("provider_id")
        .agg(claim_count=("paid_amount", "size"), total_revenue=("paid_amount", "sum"), last=("claim_end_date", "max"))
    )
    providers["recency_days"] = (as_of - providers["last"]).dt.days
    rules = pd.read_csv(SEEDS_DIR / "providers" / "provider_segment_rules.csv")
    providers["segment"] = None
    for segment, group in rules.sort_values("priority").groupby("segment", sort=False):
        holds = pd.Series(True, index=providers.index)
        for rule in group.dropna(subset=["measure"]).itertuples():
            value = providers[rule.measure]
            holds &= {
                ">": value > rule.threshold,
                "<": value < rule.threshold,
                ">=": value >= rule.threshold,
                "<=": value <= rule.threshold,
            }[rule.operator]
        providers.loc[providers["segment"].isna() & holds, "segment"] = segment
    plans = pd.read_csv(SEEDS_DIR / "providers" / "segment_visit_plans.csv").set_index("segment")
    roi = providers.groupby("segment").agg(providers=("claim_count", "size"), total_revenue=("total_revenue", "sum"))
    roi["investment"] = roi["providers"] * plans.loc[roi.index, "visits_per_quarter"] * 200
    roi["roi"] = roi["total_revenue"] / roi["investment"]
    return {
        "churn_rate": round(float(people["is_churned"].mean()), 6),
        "churn_by": drivers,
        "rfm_segment_counts": {str(k): int(v) for k, v in rfm["rfm_segment"].value_counts().sort_index().items()},
        "segment_roi": {str(k): round(float(v), 6) for k, v in roi["roi"].items()},
    }


# --------------------------------------------------------------------------- one LR fit
def run_lr(db_path: Path) -> dict[str, Any]:
    """One plain logistic-regression fit (derive -> encode -> LR) per model, on the same
    training frames `ml train` reads; seconds of the fits alone."""
    from dataclasses import replace
    from datetime import timedelta

    from ml import churn, engagement, io
    from ml.config import TrainConfig
    from ml.features import CHURN_SPEC, ENGAGEMENT_SPEC, derive_churn_features, derive_engagement_features
    from ml.selection import derived_columns, make_pipeline

    config = replace(TrainConfig(), n_jobs=1)
    info = io.warehouse_info(db_path)
    churn_examples, test_cutoff, train_cutoffs = churn.load_examples(db_path, info.as_of, info.horizon_days, config)
    calls = engagement.load_examples(db_path, info.as_of, config)
    test_from = pd.Timestamp(info.as_of - timedelta(days=config.engagement_test_days - 1))
    frames = {
        "churn": (
            churn_examples[churn_examples["cutoff_date"].isin(set(train_cutoffs))],
            "is_churned",
            CHURN_SPEC,
            derive_churn_features,
        ),
        "engagement": (
            calls[pd.to_datetime(calls["called_at"]) < test_from],
            "is_engaged",
            ENGAGEMENT_SPEC,
            derive_engagement_features,
        ),
    }
    out: dict[str, Any] = {}
    for name, (frame, label, spec, derive) in frames.items():
        X, y = frame[spec.columns], frame[label].astype(int).to_numpy()
        cats, nums = derived_columns(derive, X, spec.categorical)
        pipeline = make_pipeline("logistic_regression", derive, cats, nums, config, len(X))
        started = time.perf_counter()
        pipeline.fit(X, y)
        out[name] = {"rows": len(X), "fit_seconds": round(time.perf_counter() - started, 3)}
    out["fit_seconds"] = round(sum(v["fit_seconds"] for v in out.values()), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m carepulse.baselines")
    parser.add_argument("baseline", choices=["floor", "pandas", "lr"])
    parser.add_argument("--raw", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the figures")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.baseline == "floor":
        # the run's memory limit and threads, as dbt's: a fair floor works under the same bounds
        limit = os.environ.get("CAREPULSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
        result = run_floor(args.raw, args.db, limit, int(os.environ.get("CAREPULSE_THREADS", "2")))
    elif args.baseline == "pandas":
        result = run_pandas(args.raw)
    else:
        result = run_lr(args.db)
    result["compute_seconds"] = round(time.perf_counter() - started, 3)  # without interpreter start and imports
    args.out.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
