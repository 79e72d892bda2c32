"""`carepulse bench`: time and measure every step at one scale, next to hand-written baselines.

One run, on one set of generated files: generate, `dbt build`, the floor (bench/floor.sql:
the same core marts as one plain DuckDB script), the pandas notebook approach, `ml train`,
one plain logistic-regression fit on the same frames, `ml score`, the post-ML build and
the report. Each step runs in its own process under carepulse.measure (wall seconds and
peak RSS). The JSON (keys in DOCUMENTED_KEYS, described in the README) adds the ratios
dbt / floor, ML train / one LR fit and dbt / pandas on the marts both make, dbt seconds
per model family, the 10 slowest dbt nodes, rows per table, and the models' held-out
ROC AUC next to the oracle's and next to the previous training recipe's.
Figures are measurements, never asserted by tests (the tests check keys and equalities).
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
from carepulse.oracle_studies import study_oracles

#: Top-level keys of the bench JSON (README, Benchmarks). `model_quality`, `ml_recipe` and the
#: ML ratios are there unless --no-ml.
DOCUMENTED_KEYS: tuple[str, ...] = (
    "scale",
    "seed",
    "started_at",
    "machine",
    "steps",
    "end_to_end_seconds",
    "ratios",
    "dbt_seconds_by_family",
    "dbt_slowest_nodes",
    "floor",
    "pandas",
    "rows",
    "warehouse_mb",
)
ML_KEYS: tuple[str, ...] = ("lr_fit", "model_quality", "ml_recipe")

#: The steps `carepulse build --force` runs after the data exists; their sum is end_to_end_seconds.
BUILD_STEPS: tuple[str, ...] = ("dbt_build", "ml_train", "ml_score", "dbt_post_ml", "report")

#: The marts both the pandas baseline and dbt make: dbt's cost for them is the sum of these
#: models and every model upstream of them.
PANDAS_MARTS: tuple[str, ...] = ("patient_churn", "churn_drivers", "patient_rfm", "provider_segments", "segment_roi")

#: Held-out ROC AUC of the previous training recipe (three candidates on every training row,
#: 3-fold grouped calibration, 100 x 30,000-row forest), seed 42, from
#: docs/benchmarks/bench-scale-1.json (2026-11-27 08:55) and ml/README.md (scale 10).
#: The bench puts the current run next to it when scale and seed match.
PREVIOUS_RECIPE_AUC: dict[float, dict[str, dict[str, float]]] = {
    1.0: {
        "churn": {"logistic_regression": 0.9625, "random_forest": 0.9613, "hist_gradient_boosting": 0.9628},
        "engagement": {"logistic_regression": 0.7231, "random_forest": 0.7136, "hist_gradient_boosting": 0.7221},
    },
    10.0: {"churn": {"logistic_regression": 0.9627}, "engagement": {"logistic_regression": 0.7251}},
}


def _measured(name: str, command: list[str], env: dict[str, str], work: Path) -> dict[str, Any]:
    """Run one step in its own process under carepulse.measure; seconds and peak RSS."""
    out = work / f"{name}.measure.json"
    print(f"carepulse bench: {name}", flush=True)
    code = subprocess.call(
        [sys.executable, "-m", "carepulse.measure", str(out), "--", *command], cwd=PROJECT_DIR, env=env
    )
    figures = json.loads(out.read_text())
    if code != 0:
        raise StepFailed(f"bench step {name} failed (exit {code})")
    return figures


def _baseline(name: str, args: list[str], env: dict[str, str], work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A carepulse.baselines step: (its measure figures, the figures it wrote)."""
    result = work / f"{name}.result.json"
    step = _measured(name, [sys.executable, "-m", "carepulse.baselines", name, *args, "--out", str(result)], env, work)
    return step, json.loads(result.read_text())


def _dbt_results(target: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    manifest = json.loads((target / "manifest.json").read_text())
    results = json.loads((target / "run_results.json").read_text())["results"]
    return manifest, results


def family_seconds(manifest: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, float]:
    """dbt execution seconds per model folder (models/<layer>/<family>) and per other resource type."""
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


def slowest_nodes(results: list[dict[str, Any]], count: int = 10) -> list[dict[str, Any]]:
    """The `count` slowest dbt nodes of a run: where the build time goes."""
    ranked = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:count]
    return [{"node": r["unique_id"], "seconds": round(r["execution_time"], 2)} for r in ranked]


def upstream_model_seconds(manifest: dict[str, Any], results: list[dict[str, Any]], names: tuple[str, ...]) -> float:
    """Execution seconds of the named models and every model (and seed) upstream of them."""
    by_name = {n["name"]: uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise StepFailed(f"bench: models {missing} are not in the dbt manifest (renamed?); update PANDAS_MARTS")
    seen: set[str] = set()
    stack = [by_name[n] for n in names]
    while stack:
        uid = stack.pop()
        if uid in seen or uid not in manifest["nodes"]:
            continue
        seen.add(uid)
        stack.extend(manifest["parent_map"].get(uid, []))
    return round(sum(r["execution_time"] for r in results if r["unique_id"] in seen), 2)


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


def ml_recipe(db_path: Path, scale: float, seed: int) -> dict[str, Any]:
    """Every candidate's held-out ROC AUC and fit seconds in this run, the rows it was
    fitted on, and the previous recipe's AUC when it was measured at this scale and seed."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        candidates = con.execute(
            "select model_name, estimator, roc_auc, fit_seconds, is_selected from ml.model_candidates_current "
            "where roc_auc is not null order by model_name, estimator"
        ).fetchall()
        runs = dict(con.execute("select model_name, train_rows from ml.model_runs_current").fetchall())
    finally:
        con.close()
    before = PREVIOUS_RECIPE_AUC.get(float(scale), {}) if seed == 42 else {}
    out: dict[str, Any] = {}
    for model, estimator, auc, seconds, selected in candidates:
        entry = out.setdefault(model, {"compared_on_rows": runs.get(model), "candidates": {}})
        previous = before.get(model, {}).get(estimator)
        entry["candidates"][estimator] = {
            "roc_auc": round(float(auc), 4),
            "roc_auc_previous_recipe": previous,
            "change": None if previous is None else round(float(auc) - previous, 4),
            "fit_seconds": round(float(seconds), 2),
            "is_selected": bool(selected),
        }
    return out


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator is not None and denominator else None


def marts_figures(db_path: Path, schema: str = "marts") -> dict[str, Any]:
    """Churn rate, RFM segment counts and ROI per segment of a built warehouse: the figures
    the floor must reproduce (tests/test_bench.py) and the pandas step is shown next to."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        churn = con.execute(f"select avg(case when is_churned then 1.0 else 0.0 end) from {schema}.patient_churn")
        churn_rate = round(float(churn.fetchone()[0]), 6)
        rfm = con.execute(f"select rfm_segment, count(*) from {schema}.patient_rfm group by 1 order by 1").fetchall()
        roi = con.execute(f"select segment, roi from {schema}.segment_roi order by 1").fetchall()
    finally:
        con.close()
    return {
        "churn_rate": churn_rate,
        "rfm_segment_counts": {str(k): int(v) for k, v in rfm},
        "segment_roi": {str(k): None if v is None else round(float(v), 6) for k, v in roi},
    }


def scratch(out_dir: Path, name: str) -> tuple[Path, Settings]:
    """An emptied work folder out_dir/<name> and the Settings of a warehouse in it: the same
    validation as `carepulse build` (threads, memory, ML threads), the data's own as-of date."""
    out_dir = (PROJECT_DIR / out_dir) if not out_dir.is_absolute() else out_dir
    work = out_dir / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = Settings.from_env(
        {k: v for k, v in os.environ.items() if k != "CAREPULSE_AS_OF"},
        raw_dir=work / "raw",
        db_path=work / "carepulse.duckdb",
        model_dir=work / "models",
        report_dir=work / "reports",
    )
    return work, settings


def run_header(scale: float, seed: int, settings: Settings) -> dict[str, Any]:
    """The keys every bench JSON starts with: what ran, when, and on which machine."""
    return {
        "scale": scale,
        "seed": seed,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "platform": platform.platform(),
            "dbt_threads": settings.threads,
            "ml_threads": settings.ml_threads,
            "memory_limit": settings.memory_limit,
        },
        "steps": {},
    }


def run_bench(scale: float, seed: int, out_dir: Path, with_ml: bool = True) -> Path:
    """Run every step at `scale` in a scratch folder and write bench-scale-<scale>.json to out_dir."""
    work, settings = scratch(out_dir, f"work-scale-{scale:g}")
    out_dir = work.parent
    raw, db, target = settings.raw_dir, settings.db_path, work / "target"
    env = settings.dbt_env()
    dbt_paths = ["--target-path", str(target), "--log-path", str(work / "logs")]

    figures = run_header(scale, seed, settings)
    steps = figures["steps"]
    steps["generate"] = _measured(
        "generate",
        [sys.executable, "-m", "carepulse", "generate", "--scale", str(scale), "--seed", str(seed), "--out", str(raw)],
        env,
        work,
    )
    steps["dbt_build"] = _measured("dbt_build", [dbt_executable(), "build", *dbt_paths], env, work)
    manifest, results = _dbt_results(target)
    figures["dbt_seconds_by_family"] = family_seconds(manifest, results)
    figures["dbt_slowest_nodes"] = slowest_nodes(results)
    dbt_marts_seconds = upstream_model_seconds(manifest, results, PANDAS_MARTS)

    steps["floor"], floor_result = _baseline(
        "floor", ["--raw", str(raw), "--db", str(work / "floor.duckdb")], env, work
    )
    steps["pandas"], pandas_result = _baseline("pandas", ["--raw", str(raw)], env, work)
    figures["floor"] = {**floor_result, "figures": marts_figures(work / "floor.duckdb", schema="main")}
    figures["pandas"] = {**pandas_result, "marts_figures": marts_figures(db)}

    if with_ml:
        ml_args = ["--db", str(settings.db_path), "--model-dir", str(settings.model_dir)]
        steps["ml_train"] = _measured("ml_train", [sys.executable, "-m", "ml", "train", *ml_args], env, work)
        steps["lr_fit"], figures["lr_fit"] = _baseline("lr", ["--db", str(db)], env, work)
        steps["ml_score"] = _measured("ml_score", [sys.executable, "-m", "ml", "score", *ml_args], env, work)
        steps["dbt_post_ml"] = _measured(
            "dbt_post_ml", [dbt_executable(), "build", "--selector", "post_ml", *dbt_paths], env, work
        )
        steps["report"] = _measured("report", [sys.executable, "-m", "carepulse", "report"], env, work)
        figures["model_quality"] = oracle_comparison(db, work / "ground_truth")
        figures["model_quality"].update(study_oracles(db, work / "ground_truth"))
        figures["ml_recipe"] = ml_recipe(db, scale, seed)

    figures["end_to_end_seconds"] = round(sum(steps[s]["seconds"] for s in BUILD_STEPS if s in steps), 2)
    figures["ratios"] = {
        "dbt_build_vs_floor": _ratio(steps["dbt_build"]["seconds"], steps["floor"]["seconds"]),
        "ml_train_vs_lr_fit": _ratio(steps["ml_train"]["seconds"], figures["lr_fit"]["fit_seconds"])
        if with_ml
        else None,
        "dbt_marts_vs_pandas": _ratio(dbt_marts_seconds, pandas_result["compute_seconds"]),
        "basis": {
            "dbt_build_vs_floor": "wall seconds of `dbt build` / wall seconds of bench/floor.sql, both in their own process",
            "ml_train_vs_lr_fit": "wall seconds of `ml train` / seconds of one LR fit per model on its training frame",
            "dbt_marts_vs_pandas": (
                f"dbt execution seconds of {', '.join(PANDAS_MARTS)} and every model upstream "
                f"({dbt_marts_seconds} s) / pandas compute seconds"
            ),
        },
    }
    figures["rows"] = _row_counts(db)
    figures["warehouse_mb"] = round(db.stat().st_size / 2**20, 1)
    path = out_dir / f"bench-scale-{scale:g}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    return path
