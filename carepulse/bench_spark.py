"""`carepulse bench --target spark`: the same `carepulse build` on DuckDB and on local Spark.

One generated set; then the whole chain (`dbt build` with every data test, ML train and
score, the post-ML models, the report) once per engine, each in its own process under
carepulse.measure, DuckDB first. Both in one run, on one machine, so the two sets of
numbers are measured under the same conditions (the machine's load is recorded at each
step's start and end). Written to <out_dir>/bench-spark-scale-<scale>.json.

Why a separate bench from carepulse/bench.py: that one compares dbt with hand-written
baselines on DuckDB; this one compares the engines, and on Spark the chain runs in one
process (dbt in-process, carepulse.dbt_runner.run_dbt_in_process), so its steps are timed by
the pipeline itself (BuildResult.seconds) rather than one process per step.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from carepulse.config import PROJECT_DIR, Settings
from carepulse.dbt_runner import StepFailed

ENGINES: tuple[str, ...] = ("duckdb", "spark")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _chain(engine: str, raw: Path, work: Path, with_ml: bool, env: dict[str, str]) -> dict[str, Any]:
    """`carepulse build --force` of raw on one engine, in its own measured process; wall
    seconds and peak RSS of the process, and the pipeline's seconds per step."""
    steps = work / f"{engine}.steps.json"
    measure = work / f"{engine}.measure.json"
    command = [sys.executable, "-m", "carepulse.bench_spark", "chain", engine, str(raw), str(work), str(steps)]
    if not with_ml:
        command.append("--no-ml")
    print(f"carepulse bench: build on {engine}", flush=True)
    load_at_start = _load()
    code = subprocess.call([sys.executable, "-m", "carepulse.measure", str(measure), "--", *command], env=env)
    if code != 0:
        raise StepFailed(f"bench: carepulse build on {engine} failed (exit {code})")
    return {
        **json.loads(measure.read_text()),
        "steps": json.loads(steps.read_text()),
        "load_average_at_start": load_at_start,
        "load_average_at_end": _load(),
    }


def run_chain(engine: str, raw: Path, work: Path, steps_out: Path, with_ml: bool = True) -> None:
    """One engine's `carepulse build --force` (production settings, seed of the build) of raw
    into work/<engine>/; writes the pipeline's seconds per step to steps_out."""
    from carepulse.pipeline import BuildOptions, build

    home = work / engine
    settings = Settings.from_env(
        {k: v for k, v in os.environ.items() if k != "CAREPULSE_AS_OF"},
        raw_dir=raw,
        db_path=home / "carepulse.duckdb",
        model_dir=home / "models",
        report_dir=home / "reports",
        target=engine,
    )
    result = build(settings, BuildOptions(force=True, with_ml=with_ml, wait=False))
    steps_out.write_text(json.dumps(result.seconds, indent=2))


def run_spark_bench(scale: float, seed: int, out_dir: Path, with_ml: bool = True) -> Path:
    """Generate at scale, build on DuckDB and on Spark, write bench-spark-scale-<scale>.json."""
    out_dir = (PROJECT_DIR / out_dir) if not out_dir.is_absolute() else out_dir
    work = out_dir / f"work-spark-scale-{scale:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    raw = work / "raw"
    # each engine's warehouse under work/<engine>/ (Spark's tables: work/spark/spark)
    env = {k: v for k, v in os.environ.items() if k not in ("CAREPULSE_TARGET", "CAREPULSE_SPARK_WAREHOUSE")}
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    subprocess.run(
        [sys.executable, "-m", "carepulse", "generate", "--scale", str(scale), "--seed", str(seed), "--out", str(raw)],
        check=True,
        env=env,
    )
    engines = {engine: _chain(engine, raw, work, with_ml, env) for engine in ENGINES}
    duck, spark = engines["duckdb"], engines["spark"]
    figures = {
        "scale": scale,
        "seed": seed,
        "started_at": started,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "dbt_threads": Settings.from_env().threads,
            "spark_master": os.environ.get("CAREPULSE_SPARK_MASTER", "local[2]"),
            "spark_shuffle_partitions": os.environ.get("CAREPULSE_SPARK_SHUFFLE_PARTITIONS", "4"),
        },
        "engines": engines,
        "spark_vs_duckdb": {
            "end_to_end": round(spark["seconds"] / duck["seconds"], 2) if duck["seconds"] else None,
            **{
                step: round(spark["steps"][step] / duck["steps"][step], 2)
                for step in duck["steps"]
                if step in spark["steps"] and duck["steps"][step]
            },
        },
        "basis": (
            "seconds: wall time of one `carepulse build --force` process per engine (generate excluded); "
            "steps: the pipeline's own step timings; peak_rss_mb: the largest process waited for "
            "(the Spark JVM counts only when pyspark waits for it at exit)"
        ),
    }
    path = out_dir / f"bench-spark-scale-{scale:g}.json"
    path.write_text(json.dumps(figures, indent=2))
    return path


def main(argv: list[str]) -> int:
    """`python -m carepulse.bench_spark chain ENGINE RAW WORK STEPS.json [--no-ml]` (one measured build)."""
    if len(argv) < 5 or argv[0] != "chain":
        print("usage: python -m carepulse.bench_spark chain ENGINE RAW WORK STEPS.json [--no-ml]", file=sys.stderr)
        return 2
    engine, raw, work, steps = argv[1], Path(argv[2]), Path(argv[3]), Path(argv[4])
    run_chain(engine, raw, work, steps, with_ml="--no-ml" not in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
