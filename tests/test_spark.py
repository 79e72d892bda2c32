"""Spark is a real second target (issue 14): the session's generated data (conftest
small_raw: scale 0.02, dirty) built on Spark (dbt-spark, local pyspark in-process, the ML
step through a SparkSession, the post-ML models) gives the same marts and the same ml
tables as the session's DuckDB warehouse after the ML step (conftest ml_session_warehouse,
same raw files, same ML settings and seed). Only the Spark side is built here
(tests/spark_side.py, in a subprocess).

Compared: every table and view in schemas marts and ml, row for row, order-insensitive,
numbers within 1e-9 relative. Excluded: columns that name or time one run (run ids, the
training and scoring clock, fit seconds, the model file path and hash), which differ between
any two runs on one engine as well.

Skipped, with the reason, only where Java or the Spark extra is missing (`make spark-setup`
installs both; `make test` runs it).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT_DIR, query

#: Columns that identify or time one run rather than describe the data.
RUN_COLUMNS = {"run_id", "trained_at", "scored_at", "fit_seconds", "model_path", "model_sha256"}
RELATIVE = 1e-9

pytestmark = [
    pytest.mark.skipif(
        shutil.which("java") is None,
        reason="Spark test skipped: no Java (make spark-setup installs openjdk-17-jre-headless)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None,
        reason="Spark test skipped: the spark extra is not installed (make spark-setup)",
    ),
]


def _canonical(value: object) -> object:
    """One comparable form for a cell from either engine."""
    if isinstance(value, str):
        # model_runs.params holds the pipeline's repr, with memory addresses of this process
        return re.sub(r"0x[0-9a-f]+", "0x?", value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return float(value)
    if type(value).__name__ == "Decimal":
        return float(value)
    return str(value)


def _rows(frame: pd.DataFrame) -> list[tuple]:
    columns = sorted(c for c in frame.columns if c.lower() not in RUN_COLUMNS)
    rows = [tuple(_canonical(v) for v in row) for row in frame[columns].itertuples(index=False)]

    def key(row: tuple) -> tuple:
        # floats rounded for the order only; the comparison below is at 1e-9
        return tuple((0, "") if v is None else (1, f"{v:.6g}") if isinstance(v, float) else (2, str(v)) for v in row)

    return [tuple(columns)] + sorted(rows, key=key)


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=RELATIVE, abs_tol=1e-12)
    return left == right


def _differences(name: str, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    left, right = _rows(duck), _rows(spark)
    if left[0] != right[0]:
        return [f"{name}: columns differ: {left[0]} vs {right[0]}"]
    if len(left) != len(right):
        return [f"{name}: {len(left) - 1} rows on DuckDB, {len(right) - 1} on Spark"]
    # every differing column, with its first differing row and how many rows differ in it
    first: dict[str, tuple[object, object]] = {}
    counts: dict[str, int] = {}
    for a, b in zip(left[1:], right[1:], strict=True):
        for column, x, y in zip(left[0], a, b, strict=True):
            if not _same(x, y):
                first.setdefault(column, (x, y))
                counts[column] = counts.get(column, 0) + 1
    return [
        f"{name}.{column}: {x!r} on DuckDB, {y!r} on Spark (first of {counts[column]} differing rows)"
        for column, (x, y) in first.items()
    ]


@pytest.fixture(scope="module")
def spark_tables(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Spark side: small_raw built on Spark with the ML step, marts and ml pickled."""
    work = tmp_path_factory.mktemp("spark_side")
    env = {name: value for name, value in os.environ.items() if not name.startswith("CAREPULSE_")}
    env.update(
        CAREPULSE_SPARK_WAREHOUSE=str(work / "spark"),
        CAREPULSE_SPARK_MASTER="local[2]",
        CAREPULSE_SPARK_SHUFFLE_PARTITIONS="2",
        SPARK_LOCAL_IP="127.0.0.1",
    )
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "tests" / "spark_side.py"), str(small_raw), str(work), str(work / "out")],
        cwd=work,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert result.returncode == 0, f"the Spark build failed:\n{result.stdout[-8000:]}"
    return work / "out"


def test_every_mart_and_ml_table_is_equal_on_duckdb_and_spark(ml_session_warehouse: Path, spark_tables: Path) -> None:
    names = query(
        ml_session_warehouse,
        "select table_schema || '.' || table_name as name from information_schema.tables "
        "where table_schema in ('marts', 'ml') order by 1",
    )["name"].tolist()
    assert any(n.startswith("ml.") for n in names) and "marts.outreach_priority" in names
    on_spark = {path.stem for path in spark_tables.glob("*.pkl")}
    missing = [n for n in names if n not in on_spark]
    assert not missing, f"built on DuckDB but not on Spark: {missing}"
    problems: list[str] = []
    for name in names:
        frame = pd.read_pickle(spark_tables / f"{name}.pkl")
        problems += _differences(name, query(ml_session_warehouse, f"select * from {name}"), frame)
        # the comparison must see data, or equality would prove nothing
        if name in ("marts.dim_patients", "ml.churn_predictions", "marts.outreach_priority"):
            assert len(frame) > 0, f"{name} is empty on Spark"
    assert not problems, "DuckDB and Spark differ:\n" + "\n".join(problems)
