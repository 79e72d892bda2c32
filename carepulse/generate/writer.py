"""Writing raw tables as Parquet or CSV, streamed in batches, one format per table.

Why streamed: at scale 10 the events table has ~50M rows; each block is written as soon as
it is generated, so memory stays flat. Why a temporary file: a crash mid-way must not leave
a truncated table that looks complete. When a table is written in one format, the file of
the other format for the same table is removed, so exactly one format wins in the folder.
With dirty rows enabled, date/timestamp/amount columns are written as text (in both formats)
so that unparseable values can be represented.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")

TS = pa.timestamp("s")
RAW_SCHEMAS: dict[str, pa.Schema] = {
    "patients": pa.schema(
        [
            ("patient_id", pa.string()),
            ("first_name", pa.string()),
            ("last_name", pa.string()),
            ("email", pa.string()),
            ("phone", pa.string()),
            ("birth_date", pa.date32()),
            ("sex", pa.string()),
            ("zip_code", pa.string()),
            ("location_type", pa.string()),
            ("primary_condition", pa.string()),
            ("referral_source", pa.string()),
            ("plan_type", pa.string()),
            ("enrolled_at", TS),
        ]
    ),
    "engagement_events": pa.schema(
        [
            ("event_id", pa.string()),
            ("patient_id", pa.string()),
            ("event_at", TS),
            ("event_type", pa.string()),
            ("revenue_usd", pa.float64()),
        ]
    ),
    "care_journey_stages": pa.schema(
        [("patient_id", pa.string()), ("stage", pa.string()), ("entered_at", TS), ("completed_at", TS)]
    ),
    "outreach_calls": pa.schema(
        [
            ("call_id", pa.string()),
            ("patient_id", pa.string()),
            ("called_at", TS),
            ("channel", pa.string()),
            ("program", pa.string()),
            ("outcome", pa.string()),
        ]
    ),
    "providers": pa.schema(
        [
            ("provider_id", pa.string()),
            ("provider_name", pa.string()),
            ("specialty", pa.string()),
            ("state", pa.string()),
            ("city", pa.string()),
        ]
    ),
    "claims": pa.schema(
        [
            ("claim_id", pa.string()),
            ("patient_id", pa.string()),
            ("provider_id", pa.string()),
            ("claim_start_date", pa.date32()),
            ("claim_end_date", pa.date32()),
            ("paid_amount", pa.float64()),
            ("deductible_amount", pa.float64()),
            ("diagnosis_code", pa.string()),
            ("procedure_code", pa.string()),
        ]
    ),
}


def is_typed(t: pa.DataType) -> bool:
    """Columns that become text when dirty rows are enabled."""
    return pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_floating(t)


def text_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with every date, timestamp and amount column as string."""
    return pa.schema([pa.field(f.name, pa.string() if is_typed(f.type) else f.type) for f in schema])


def to_text(table: pa.Table) -> pa.Table:
    """Render typed columns as text: 'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD', shortest decimal."""
    columns = [col.cast(pa.string()) if is_typed(col.type) else col for col in table.columns]
    return pa.table(columns, names=table.column_names)


class TableSink:
    """One output table, written in batches to <out>/<name>.<fmt>."""

    def __init__(self, out_dir: Path, name: str, fmt: str, schema: pa.Schema) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.out_dir = Path(out_dir)
        self.name = name
        self.fmt = fmt
        self.schema = schema
        self.path = self.out_dir / f"{name}.{fmt}"
        self.tmp = self.out_dir / f".{name}.{fmt}.partial"
        self.rows = 0
        if fmt == "parquet":
            self._writer: pq.ParquetWriter | pacsv.CSVWriter = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(self.tmp, schema)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> int:
        """Finish the file, move it into place and drop the other format's file."""
        self._writer.close()
        os.replace(self.tmp, self.path)
        for other in FORMATS:
            if other != self.fmt:
                (self.out_dir / f"{self.name}.{other}").unlink(missing_ok=True)
        return self.rows

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write a ground-truth table atomically."""
    tmp = path.with_name(f".{path.name}.partial")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
