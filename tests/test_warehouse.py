"""ml/warehouse.py's pure parts: how the ML step's SQL and ml-table definitions reach Spark.

Spark SQL through a SparkSession has no bind parameters, so parameters become literals;
a parameter must never end its literal (text from a run id or a path reaches SQL here).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ml.warehouse import bind, spark_literal, spark_type
from ml.writeback import TABLES


def test_parameters_become_literals_in_order() -> None:
    sql = bind("select * from t where d <= ? and k = ? and n > ? and b = ?", [date(2025, 3, 1), "a", 2, True])
    assert sql == "select * from t where d <= date '2025-03-01' and k = 'a' and n > 2 and b = true"


def test_a_question_mark_inside_a_literal_is_not_a_placeholder() -> None:
    assert bind("select '?' as q, ? as v", [1]) == "select '?' as q, 1 as v"


def test_a_quote_in_a_parameter_cannot_end_the_literal() -> None:
    literal = spark_literal("x' or '1'='1")
    assert literal == "'x\\' or \\'1\\'=\\'1'"
    assert spark_literal(datetime(2025, 1, 2, 3, 4, 5)) == "timestamp '2025-01-02 03:04:05'"
    assert spark_literal(None) == "null"


def test_placeholder_and_parameter_counts_must_match() -> None:
    with pytest.raises(ValueError, match="more \\? placeholders"):
        bind("select ?, ?", [1])
    with pytest.raises(ValueError, match="more parameters"):
        bind("select ?", [1, 2])


def test_every_ml_column_has_a_spark_type() -> None:
    for table, columns in TABLES.items():
        for name, definition in columns:
            assert spark_type(definition) in {"string", "int", "bigint", "double", "boolean", "date", "timestamp"}, (
                table,
                name,
            )
    assert spark_type("varchar not null check (risk_band in ('high'))") == "string"
    with pytest.raises(ValueError, match="no Spark type"):
        spark_type("hugeint")
