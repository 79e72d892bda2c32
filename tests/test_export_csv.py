"""`carepulse export --format csv`: every mart and ML table as CSV (a CRM import takes the
worklist as CSV), the same rows and values as the warehouse, and the symlink refusal kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
from conftest import PROJECT_DIR, query


def _export(db: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "carepulse", "export", "--format", "csv", "--out-dir", str(out)],
        check=False,
        cwd=PROJECT_DIR,
        env=dict(os.environ, CAREPULSE_DB=str(db)),
        capture_output=True,
        text=True,
    )


def test_csv_export_has_every_table_with_its_rows_and_the_worklist_values(
    ml_session_warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = _export(ml_session_warehouse, out)
    assert result.returncode == 0, result.stderr
    relations = query(
        ml_session_warehouse,
        "select table_schema, table_name from information_schema.tables where table_schema in ('marts', 'ml')",
    )
    assert f"exported {len(relations)} tables" in result.stdout
    assert not list(out.rglob("*.parquet")) and not list(out.rglob("*.tmp"))
    for schema, name in relations.itertuples(index=False):
        path = out / schema / f"{name}.csv"
        rows = duckdb.execute("select count(*) from read_csv(?, header = true, all_varchar = true)", [str(path)])
        assert rows.fetchone()[0] == query(ml_session_warehouse, f'select count(*) as n from {schema}."{name}"').n[0]

    # The worklist a CRM imports: header = the mart's columns, same patients, ranks and probabilities.
    mart = query(ml_session_warehouse, "select * from marts.outreach_priority order by priority_rank")
    assert len(mart) > 0
    csv_text = (out / "marts" / "outreach_priority.csv").read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == ",".join(mart.columns)
    exported = pd.read_csv(out / "marts" / "outreach_priority.csv", keep_default_na=False).sort_values("priority_rank")
    assert list(exported["patient_id"]) == list(mart["patient_id"])
    assert list(exported["priority_rank"]) == list(mart["priority_rank"])
    assert (exported["churn_probability"].to_numpy() == mart["churn_probability"].to_numpy()).all()
    # Free text with commas survives quoting.
    assert list(exported["intervention_description"]) == list(mart["intervention_description"])


def test_csv_export_refuses_a_symlink_and_writes_nothing(ml_session_warehouse: Path, tmp_path: Path) -> None:
    outside = tmp_path / "crm_import.csv"
    outside.write_text("precious")
    out = tmp_path / "export"
    (out / "marts").mkdir(parents=True)
    (out / "marts" / "outreach_priority.csv").symlink_to(outside)
    result = _export(ml_session_warehouse, out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "refusing to export through the symlink" in result.stderr and "outreach_priority.csv" in result.stderr
    assert outside.read_text() == "precious"
    assert sorted(p.name for p in (out / "marts").iterdir()) == ["outreach_priority.csv"]
