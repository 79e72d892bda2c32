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

import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SparkSide, _session_root, query, spark_missing, start_spark_side

#: Columns that identify or time one run rather than describe the data.
RUN_COLUMNS = {"run_id", "trained_at", "scored_at", "fit_seconds", "model_path", "model_sha256"}
RELATIVE = 1e-9

pytestmark = pytest.mark.skipif(spark_missing() is not None, reason=str(spark_missing()))


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


def _iso(series: pd.Series) -> pd.Series:
    """_canonical of a datetime column, vectorized (the large fact tables have 100k rows):
    one strftime to the microsecond, cut to the second or the day where that is the form."""
    full = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if not full.dropna().str.len().eq(26).all():  # not the fixed-width text the cuts assume
        return _iso_each_format(series)
    midnight = series == series.dt.normalize()
    whole_seconds = series.dt.microsecond == 0
    text = full.str.slice(0, 19).where(whole_seconds, full)
    text = text.where(~midnight, full.str.slice(0, 10))
    return pd.Series(np.where(series.notna(), text.astype(object), None), dtype=object)


def _iso_each_format(series: pd.Series) -> pd.Series:
    """_iso with one strftime per form (years before 1000 or after 9999)."""
    midnight = series == series.dt.normalize()
    whole_seconds = series.dt.microsecond == 0
    text = series.dt.strftime("%Y-%m-%dT%H:%M:%S").where(whole_seconds, series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f"))
    text = text.where(~midnight, series.dt.strftime("%Y-%m-%d"))
    return pd.Series([None if pd.isna(v) else v for v in text.where(series.notna())], dtype=object)


def _canonical_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's data columns (sorted by name) in canonical form, rows in a canonical
    order: numeric columns as float64 (null: NaN), the rest as canonical objects."""
    columns = sorted(c for c in frame.columns if c.lower() not in RUN_COLUMNS)
    out = pd.DataFrame(index=range(len(frame)))
    keys = pd.DataFrame(index=range(len(frame)))
    for column in columns:
        series = frame[column].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(series):
            values = _iso(series)
        elif pd.api.types.is_string_dtype(series) and (
            isinstance(series.dtype, pd.StringDtype) or all(isinstance(v, str) for v in series.dropna())
        ):  # a string dtype holds only text; an object column is checked value by value
            text = series.str.replace(r"0x[0-9a-f]+", "0x?", regex=True)
            values = pd.Series(text.astype(object).where(series.notna(), None), dtype=object)
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.astype("float64")
        else:
            values = pd.Series([_canonical(v) for v in series], dtype=object)  # None stays None
        if values.dtype == "float64" or all(v is None or type(v) is float for v in values):
            out[column] = values.astype("float64")
            # the order only: floats rounded to 6 significant digits (the comparison is at 1e-9)
            magnitude = np.floor(np.log10(np.abs(out[column]).where(out[column] != 0, 1.0)))
            keys[column] = np.round(out[column] * 10.0 ** (5 - magnitude)) / 10.0 ** (5 - magnitude)
        else:
            out[column] = values
            keys[column] = values.astype(str).where(values.notna(), "")
    order = keys.sort_values(columns, na_position="first", kind="stable").index if columns else keys.index
    return out.loc[order].reset_index(drop=True)


def _nulls_as_none(values: pd.Series) -> list[object]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=RELATIVE, abs_tol=1e-12)
    return left == right


def _differences(name: str, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    left, right = _canonical_frame(duck), _canonical_frame(spark)
    if list(left.columns) != list(right.columns):
        return [f"{name}: columns differ: {list(left.columns)} vs {list(right.columns)}"]
    if len(left) != len(right):
        return [f"{name}: {len(left)} rows on DuckDB, {len(right)} on Spark"]
    # every differing column, with its first differing row and how many rows differ in it
    problems = []
    for column in left.columns:
        x, y = left[column], right[column]
        if x.dtype == "float64" and y.dtype == "float64":
            same = np.isclose(x, y, rtol=RELATIVE, atol=1e-12, equal_nan=True)
        else:  # e.g. a nullable boolean: 1.0 / NaN from one engine, True / None from the other
            same = np.array(
                [_same(a, b) for a, b in zip(_nulls_as_none(x), _nulls_as_none(y), strict=True)], dtype=bool
            )
        if not same.all():
            first = int(np.argmin(same))
            problems.append(
                f"{name}.{column}: {x[first]!r} on DuckDB, {y[first]!r} on Spark "
                f"(first of {int((~same).sum())} differing rows)"
            )
    return problems


@pytest.fixture(scope="session")
def spark_side(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSide]:
    """The Spark side (conftest.start_spark_side): small_raw built on Spark with the ML step,
    marts and ml pickled to its `out` folder. Usually started as the run starts (conftest
    _spark_side_early), so it has run beside the other test files by the time this test
    comes; else started here. Listed before ml_session_warehouse, so it runs while the
    DuckDB side is built (a run of this file alone takes the longer of the two, not their sum)."""
    side = start_spark_side(_session_root(tmp_path_factory), small_raw)
    yield side
    side.stop()  # the test failed before the Spark side ended (if this process started it)


def test_every_mart_and_ml_table_is_equal_on_duckdb_and_spark(
    spark_side: SparkSide, ml_session_warehouse: Path
) -> None:
    code = spark_side.wait()
    assert code == 0, f"the Spark build failed (exit {code}):\n{spark_side.log.read_text()[-8000:]}"
    spark_tables = spark_side.out
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
