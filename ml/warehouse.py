"""The warehouse connection of the ML step and the report, on DuckDB or on Spark.

Why one small interface: the ML step reads the contracted marts and writes the `ml` tables
through the same engine dbt built them on (issue 14). On DuckDB that is the database file;
on Spark it is a SparkSession on the same metastore and warehouse folder as dbt-spark's
profile (target `spark`), and pandas frames cross with Arrow. The SQL the callers send is
the portable subset both engines accept; what differs (parameters, the catalog, DDL,
deletes on file tables, inserts from pandas) is a method here.

The engine is CAREPULSE_TARGET (duckdb, the default, or spark), which `carepulse` sets from
its Settings for the whole run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pandas as pd

from carepulse.config import DEFAULT_MEMORY_LIMIT

SPARK = "spark"


def target() -> str:
    """The engine the warehouse is on: CAREPULSE_TARGET, default duckdb."""
    return (os.environ.get("CAREPULSE_TARGET") or "duckdb").strip()


class Result(Protocol):
    def fetchdf(self) -> pd.DataFrame: ...
    def fetchone(self) -> tuple | None: ...
    def fetchall(self) -> list[tuple]: ...


class Connection(Protocol):
    """What the ML step and the report need from a warehouse."""

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Result: ...
    def relations(self) -> set[str]: ...
    def columns(self, relation: str) -> list[str]: ...
    def create_table(self, relation: str, columns: Sequence[tuple[str, str]], key: Sequence[str]) -> None: ...
    def insert(self, relation: str, frame: pd.DataFrame) -> None: ...
    def delete_where(self, relation: str, predicate: str, parameters: Sequence[Any]) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def duckdb_config() -> dict[str, str]:
    """The run's DuckDB memory limit and spill folder (CAREPULSE_MEMORY_LIMIT, CAREPULSE_TEMP_DIR,
    as dbt's profile reads them): without them a connection of the ML step or the report takes
    DuckDB's default of 80% of RAM, and a step's peak memory is no longer the one the user set."""
    config = {"memory_limit": os.environ.get("CAREPULSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)}
    if os.environ.get("CAREPULSE_TEMP_DIR"):
        config["temp_directory"] = os.environ["CAREPULSE_TEMP_DIR"]
    return config


class DuckDBConnection:
    """A DuckDB file: transactions, constraints and the catalog are the database's own."""

    def __init__(self, db_path: Path, read_only: bool) -> None:
        self._con = duckdb.connect(str(db_path), read_only=read_only, config=duckdb_config())

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Result:
        return self._con.execute(sql, list(parameters or []))

    def relations(self) -> set[str]:
        rows = self._con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        return {f"{schema}.{name}" for schema, name in rows}

    def columns(self, relation: str) -> list[str]:
        schema, name = relation.split(".")
        rows = self._con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
        return [row[0] for row in rows]

    def create_table(self, relation: str, columns: Sequence[tuple[str, str]], key: Sequence[str]) -> None:
        body = ",\n    ".join(f"{name} {definition}" for name, definition in columns)
        self._con.execute(
            f"create table if not exists {relation} (\n    {body},\n    primary key ({', '.join(key)})\n)"
        )

    def insert(self, relation: str, frame: pd.DataFrame) -> None:
        view = "_ml_insert_" + relation.replace(".", "_")
        self._con.register(view, frame)
        # no unregister on failure: the aborted transaction refuses it and would mask the
        # real error; the connection is closed right after anyway
        names = ", ".join(frame.columns)
        self._con.execute(f"insert into {relation} ({names}) select {names} from {view}")
        self._con.unregister(view)

    def delete_where(self, relation: str, predicate: str, parameters: Sequence[Any]) -> None:
        self._con.execute(f"delete from {relation} where {predicate}", list(parameters))

    def begin(self) -> None:
        self._con.begin()

    def commit(self) -> None:
        self._con.commit()

    def rollback(self) -> None:
        self._con.rollback()

    def close(self) -> None:
        self._con.close()


# --- Spark -----------------------------------------------------------------------------

#: DuckDB column types of the ml tables -> Spark SQL types.
_SPARK_TYPES = {
    "varchar": "string",
    "integer": "int",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


def spark_type(definition: str) -> str:
    """The Spark type of a DuckDB column definition ('varchar not null check (...)' -> string).

    Spark file tables enforce neither NOT NULL, CHECK nor keys: the ML step validates its
    frames before writing (ml/runs.py, ml/score.py), and DuckDB enforces them again."""
    base = definition.split()[0].lower()
    if base not in _SPARK_TYPES:
        raise ValueError(f"no Spark type for column definition {definition!r}")
    return _SPARK_TYPES[base]


def spark_literal(value: Any) -> str:
    """A query parameter as a Spark SQL literal (Spark SQL has no bind parameters here)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def bind(sql: str, parameters: Sequence[Any] | None) -> str:
    """sql with each `?` outside string literals replaced by the next parameter's literal."""
    values = list(parameters or [])
    parts = re.split(r"('(?:[^'\\]|\\.)*')", sql)
    out = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            while "?" in part:
                if not values:
                    raise ValueError("more ? placeholders than parameters")
                part = part.replace("?", spark_literal(values.pop(0)), 1)
        out.append(part)
    if values:
        raise ValueError("more parameters than ? placeholders")
    return "".join(out)


def duckdb_dtypes(frame: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """Spark's pandas frame with the dtypes DuckDB's fetchdf gives, so that the ML step sees
    the same frame on both engines: decimals as float64 (Spark: Decimal objects), dates and
    timestamps as datetime64[us], whole numbers as nullable Int32/Int64 where nulls occur."""
    from pyspark.sql import types

    out = frame.copy()
    for field in schema.fields:
        name, kind = field.name, field.dataType
        if isinstance(kind, types.DecimalType):
            out[name] = out[name].astype("float64")
        elif isinstance(kind, (types.DateType, types.TimestampType, types.TimestampNTZType)):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
        elif isinstance(kind, (types.IntegerType, types.ShortType, types.ByteType)):
            out[name] = out[name].astype("Int32" if out[name].isna().any() else "int32")
        elif isinstance(kind, types.LongType):
            out[name] = out[name].astype("Int64" if out[name].isna().any() else "int64")
        elif isinstance(kind, types.StringType):
            out[name] = out[name].astype("str")
    return out


def spark_ready(frame: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """frame with the Python values Spark's schema expects: dates as datetime.date (Arrow
    refuses to cast a timestamp to a date), whole numbers as Python ints or None."""
    from pyspark.sql import types

    out = frame.copy()
    for field in schema.fields:
        name, kind = field.name, field.dataType
        if isinstance(kind, types.DateType):
            values = pd.to_datetime(out[name])
            out[name] = pd.Series([None if pd.isna(v) else v.date() for v in values], index=out.index, dtype=object)
        elif isinstance(kind, (types.TimestampType, types.TimestampNTZType)):
            out[name] = pd.to_datetime(out[name]).astype("datetime64[us]")
        elif isinstance(kind, (types.IntegerType, types.LongType)):
            out[name] = pd.Series([None if pd.isna(v) else int(v) for v in out[name]], index=out.index, dtype=object)
    return out


class SparkResult:
    """A Spark query's rows in the DuckDB result shape (fetchdf through Arrow)."""

    def __init__(self, frame: Any) -> None:
        self._frame = frame

    def fetchdf(self) -> pd.DataFrame:
        return duckdb_dtypes(self._frame.toPandas(), self._frame.schema)

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self._frame.collect()]

    def fetchone(self) -> tuple | None:
        rows = self._frame.take(1)
        return tuple(rows[0]) if rows else None


def spark_session() -> Any:
    """The SparkSession of profile target `spark`: same master, metastore and warehouse folder.

    Why these settings are read from the same environment variables as profiles.yml: dbt and
    the ML step must see the same tables; a session created earlier in the process (dbt-spark's
    own, in tests) is reused by getOrCreate."""
    from pyspark.sql import SparkSession

    warehouse = os.environ.get("CAREPULSE_SPARK_WAREHOUSE", "warehouse/spark")
    builder = (
        SparkSession.builder.enableHiveSupport()
        .master(os.environ.get("CAREPULSE_SPARK_MASTER", "local[2]"))
        .config("spark.sql.warehouse.dir", warehouse)
        .config("javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true")
        .config("spark.sql.catalogImplementation", os.environ.get("CAREPULSE_SPARK_CATALOG", "hive"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("CAREPULSE_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.shuffle.partitions", os.environ.get("CAREPULSE_SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")  # as dbt-spark sets it
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkConnection:
    """The warehouse on Spark. No transactions: begin/commit/rollback do nothing, so a
    failed write can leave a table rewritten with the rows before the failure (each table
    is replaced whole, never half-written)."""

    def __init__(self) -> None:
        self._spark = spark_session()

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Result:
        return SparkResult(self._spark.sql(bind(sql, parameters)))

    def relations(self) -> set[str]:
        # SHOW TABLES, not catalog.listTables: the latter fetches every table's metadata
        # from the metastore, seconds per call on a hundred tables.
        found = set()
        for (database,) in self._spark.sql("show databases").collect():
            for row in self._spark.sql(f"show tables in `{database}`").collect():
                if not row["isTemporary"]:
                    found.add(f"{database}.{row['tableName']}")
        return found

    def columns(self, relation: str) -> list[str]:
        return list(self._spark.table(relation).columns)

    def create_table(self, relation: str, columns: Sequence[tuple[str, str]], key: Sequence[str]) -> None:
        body = ", ".join(f"{name} {spark_type(definition)}" for name, definition in columns)
        self._spark.sql(f"create table if not exists {relation} ({body}) using parquet")

    def insert(self, relation: str, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        schema = self._spark.table(relation).schema
        data = spark_ready(frame[schema.fieldNames()], schema)
        self._spark.createDataFrame(data, schema=schema).write.insertInto(relation)

    def delete_where(self, relation: str, predicate: str, parameters: Sequence[Any]) -> None:
        """Parquet tables have no DELETE: keep the other rows and overwrite the table.
        The kept rows are collected first, since Spark cannot overwrite a table it reads."""
        kept = self._spark.sql(f"select * from {relation} where not ({bind(predicate, parameters)})")
        rows = kept.toPandas()
        data = rows if len(rows) else []
        self._spark.createDataFrame(data, schema=kept.schema).write.insertInto(relation, overwrite=True)

    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        """The session stays up for the next step of the run (starting one takes ~20 s)."""


def open_connection(db_path: Path, read_only: bool) -> Connection:
    """A connection to the warehouse on the configured target."""
    if target() == SPARK:
        return SparkConnection()
    return DuckDBConnection(db_path, read_only)
