"""`carepulse bench`: time and measure generate, dbt build and the ML step at one scale.

Figures go to a JSON file (never asserted in unit tests): seconds and peak memory per
step, dbt seconds per model family from run_results.json, rows per table, and the ML
step's held-out AUCs next to the oracle AUCs from the generator's ground truth.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from carepulse.config import PROJECT_DIR, Settings
from carepulse.dbt_runner import StepFailed, dbt_executable
from carepulse.oracle import oracle_comparison


def _measured(name: str, command: list[str], env: dict[str, str], work: Path) -> dict[str, Any]:
    out = work / f"{name}.measure.json"
    print(f"carepulse bench: {name}", flush=True)
    code = subprocess.call(
        [sys.executable, "-m", "carepulse.measure", str(out), "--", *command], cwd=PROJECT_DIR, env=env
    )
    figures = json.loads(out.read_text())
    if code != 0:
        raise StepFailed(f"bench step {name} failed (exit {code})")
    return figures


def _family_from_manifest(target: Path) -> dict[str, float]:
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    totals: dict[str, float] = defaultdict(float)
    for result in results:
        node = manifest["nodes"].get(result["unique_id"])
        if node is None:
            continue
        if node["resource_type"] == "model":
            parts = Path(node["original_file_path"]).parts  # models/<layer>/<family>/file.sql
            family = "/".join(parts[1:3]) if len(parts) > 3 else parts[1]
            totals[family] += result["execution_time"]
        else:
            totals[node["resource_type"] + "s"] += result["execution_time"]
    return {name: round(seconds, 2) for name, seconds in sorted(totals.items())}


def _row_counts(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts', 'ml', 'audit') and table_type = 'BASE TABLE' "
            "order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}
    finally:
        con.close()


def run_bench(scale: float, seed: int, out_dir: Path, with_ml: bool = True) -> Path:
    """Run every step at `scale` in a scratch folder and write bench-<scale>.json to out_dir."""
    out_dir = (PROJECT_DIR / out_dir) if not out_dir.is_absolute() else out_dir
    work = out_dir / f"work-scale-{scale:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    raw, db, target = work / "raw", work / "carepulse.duckdb", work / "target"
    # The same Settings as `carepulse build` (threads, memory, ML threads validated once),
    # for this scratch warehouse; the as-of date is always the data's own.
    settings = Settings.from_env(
        {k: v for k, v in os.environ.items() if k != "CAREPULSE_AS_OF"},
        raw_dir=raw,
        db_path=db,
        model_dir=work / "models",
    )
    env = settings.dbt_env()

    figures: dict[str, Any] = {
        "scale": scale,
        "seed": seed,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "steps": {},
    }
    steps = figures["steps"]
    steps["generate"] = _measured(
        "generate",
        [sys.executable, "-m", "carepulse", "generate", "--scale", str(scale), "--seed", str(seed), "--out", str(raw)],
        env,
        work,
    )
    steps["dbt_build"] = _measured(
        "dbt_build", [dbt_executable(), "build", "--target-path", str(target), "--log-path", str(work / "logs")], env, work
    )
    figures["dbt_seconds_by_family"] = _family_from_manifest(target)
    if with_ml:
        ml_args = ["--db", str(settings.db_path), "--model-dir", str(settings.model_dir)]
        steps["ml_train"] = _measured("ml_train", [sys.executable, "-m", "ml", "train", *ml_args], env, work)
        steps["ml_score"] = _measured("ml_score", [sys.executable, "-m", "ml", "score", *ml_args], env, work)
        steps["dbt_post_ml"] = _measured(
            "dbt_post_ml",
            [dbt_executable(), "build", "--selector", "post_ml", "--target-path", str(target), "--log-path",
             str(work / "logs")],
            env,
            work,
        )
        figures["model_quality"] = oracle_comparison(db, work / "ground_truth")
    figures["rows"] = _row_counts(db)
    figures["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
    path = out_dir / f"bench-scale-{scale:g}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    return path
