"""Reading the warehouse: the only module of the package that runs SQL to fetch data.

Why here and nowhere else: every read opens its own short-lived DuckDB connection and
closes it, so the file is never held while dbt runs (DuckDB allows one writer), and every
row cap is applied in SQL with a deterministic hash sample, so scale 10 never loads tens
of millions of rows into pandas. Writes live in writeback.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from .warehouse import Connection, open_connection, target

#: The contracted marts the ML step reads (models/marts/ml, models/marts/core): a model
#: change that would break them fails `dbt build` instead of this step. Nothing else is read
#: from dbt; the step's own tables are schema `ml`.
FEATURES = "marts.patient_features_by_cutoff"
LABELS = "marts.patient_churn_labels_by_cutoff"
CUTOFFS = "marts.feature_cutoffs"
CALL_FEATURES = "marts.outreach_call_features"
AS_OF = "marts.as_of_date"
#: The dropout and future-Champion models' examples and scoring rows (ml/dropout.py, ml/champions.py).
DROPOUT_FEATURES = "marts.journey_dropout_features_by_cutoff"
CHAMPION_FEATURES = "marts.provider_champion_features_by_month"

#: Hash buckets for deterministic sampling in SQL.
_BUCKETS = 1_000_000


class WarehouseNotReady(RuntimeError):
    """The dbt models the ML step reads are missing: dbt build has not run."""


@contextmanager
def connect(db_path: Path, read_only: bool = True) -> Iterator[Connection]:
    """A warehouse connection (DuckDB file, or Spark: ml/warehouse.py) that is always
    closed, even when the caller fails."""
    if read_only and target() != "spark" and not Path(db_path).exists():
        raise WarehouseNotReady(f"warehouse {db_path} does not exist: run `dbt build` (or `carepulse build`) first")
    con = open_connection(Path(db_path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def _require(con: Connection, relations: list[str]) -> None:
    present = con.relations()
    missing = [r for r in relations if r not in present]
    if missing:
        raise WarehouseNotReady(
            f"missing {', '.join(missing)}: run `dbt build` (or `carepulse build`) before the ML step"
        )


def _sample_clause(key_sql: str, fraction: float) -> str:
    """SQL predicate keeping a deterministic `fraction` of rows by a hash of key_sql."""
    if fraction >= 1.0:
        return "true"
    return f"(hash({key_sql}) % {_BUCKETS}) < {int(fraction * _BUCKETS)}"


@dataclass(frozen=True)
class WarehouseInfo:
    """The as-of date and churn horizon the warehouse was built with."""

    as_of: date
    horizon_days: int


def warehouse_info(db_path: Path) -> WarehouseInfo:
    with connect(db_path) as con:
        _require(con, [AS_OF, CUTOFFS])
        as_of = con.execute(f"select as_of_date from {AS_OF}").fetchone()[0]
        horizon = con.execute(f"select max(label_window_days) from {CUTOFFS}").fetchone()[0]
    if as_of is None:
        raise WarehouseNotReady("the warehouse has no as-of date (no activity data?)")
    return WarehouseInfo(as_of=as_of, horizon_days=int(horizon))


def labelled_cutoff_counts(db_path: Path, as_of: date) -> pd.DataFrame:
    """cutoff_date, examples: labelled churn examples per cutoff whose window ends by as_of."""
    with connect(db_path) as con:
        _require(con, [LABELS])
        return con.execute(
            f"""
            select cutoff_date, count(*) as examples
            from {LABELS}
            where label_window_end <= ?
            group by cutoff_date
            order by cutoff_date
            """,
            [as_of],
        ).fetchdf()


def read_churn_examples(db_path: Path, cutoff_fractions: dict[date, float]) -> pd.DataFrame:
    """Features joined to labels for the given cutoffs, each sampled to its fraction."""
    if not cutoff_fractions:
        return pd.DataFrame()
    parts = []
    for cutoff, fraction in sorted(cutoff_fractions.items()):
        parts.append(
            f"(features.cutoff_date = date '{cutoff.isoformat()}' and "
            f"{_sample_clause('features.patient_id, features.cutoff_date', fraction)})"
        )
    with connect(db_path) as con:
        _require(con, [FEATURES, LABELS])
        return con.execute(
            f"""
            select features.*, labels.is_churned, labels.label_window_end
            from {FEATURES} as features
            inner join {LABELS} as labels
                on features.patient_id = labels.patient_id
                and features.cutoff_date = labels.cutoff_date
            where {" or ".join(parts)}
            order by features.cutoff_date, features.patient_id
            """
        ).fetchdf()


def read_churn_scoring(db_path: Path) -> pd.DataFrame:
    """Features at the as-of date of every patient who is not already churned."""
    with connect(db_path) as con:
        _require(con, [FEATURES])
        return con.execute(
            f"""
            select * from {FEATURES}
            where is_scoring_cutoff and is_active
            order by patient_id
            """
        ).fetchdf()


def call_counts(db_path: Path, as_of: date, test_from: date) -> tuple[int, int]:
    """(training calls, held-out calls) up to as_of, split at test_from."""
    with connect(db_path) as con:
        _require(con, [CALL_FEATURES])
        row = con.execute(
            f"""
            select
                count(*) filter (where cast(called_at as date) < ?),
                count(*) filter (where cast(called_at as date) >= ?)
            from {CALL_FEATURES}
            where anchor_type = 'observed_call' and cast(called_at as date) <= ?
            """,
            [test_from, test_from, as_of],
        ).fetchone()
    return int(row[0]), int(row[1])


def read_call_examples(
    db_path: Path, as_of: date, test_from: date, train_fraction: float, test_fraction: float
) -> pd.DataFrame:
    """Observed calls up to as_of with their features, each period sampled to its fraction."""
    with connect(db_path) as con:
        _require(con, [CALL_FEATURES])
        return con.execute(
            f"""
            select * from {CALL_FEATURES}
            where anchor_type = 'observed_call'
                and cast(called_at as date) <= ?
                and (
                    (cast(called_at as date) < ? and {_sample_clause("anchor_id", train_fraction)})
                    or (cast(called_at as date) >= ? and {_sample_clause("anchor_id", test_fraction)})
                )
            order by called_at, anchor_id
            """,
            [as_of, test_from, test_from],
        ).fetchdf()


def read_segment_features(db_path: Path, as_of: date) -> pd.DataFrame:
    """Features of every enrolled patient at the latest cutoff on or before as_of (the
    behavioural segments' input; churned patients included)."""
    with connect(db_path) as con:
        _require(con, [FEATURES])
        return con.execute(
            f"""
            select * from {FEATURES}
            where cutoff_date = (select max(cutoff_date) from {FEATURES} where cutoff_date <= ?)
            order by patient_id
            """,
            [as_of],
        ).fetchdf()


def read_mart_rows(db_path: Path, relation: str, where: str, parameters: list, order_by: str) -> pd.DataFrame:
    """Rows of one of the contracted ML marts above matching `where` (the dropout and
    champion models read whole marts: a few rows per patient or provider and month)."""
    with connect(db_path) as con:
        _require(con, [relation])
        return con.execute(f"select * from {relation} where {where} order by {order_by}", parameters).fetchdf()


def read_next_calls(db_path: Path) -> pd.DataFrame:
    """The hypothetical next call per channel of every active patient, with its features."""
    with connect(db_path) as con:
        _require(con, [CALL_FEATURES])
        return con.execute(
            f"""
            select * from {CALL_FEATURES}
            where anchor_type = 'next_call'
            order by patient_id, channel
            """
        ).fetchdf()


def fingerprint(*frames: pd.DataFrame) -> str:
    """SHA-256 over the content of the input frames: equal data, equal fingerprint."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        if len(frame):
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
