"""The Spark side of tests/test_spark.py, run as a script in a subprocess:
`python tests/spark_side.py RAW WORK OUT`.

What it does: what conftest's ml_session_warehouse does on DuckDB, on Spark: `dbt build
--target spark` of RAW, the ML step with the tests' settings (TEST_TRAIN_*), the post-ML
models; then every table and view of schemas marts and ml is written to OUT as a pickled
pandas frame (SparkConnection.fetchdf: DuckDB's dtypes), for the test to compare.

Why a subprocess, and everything in it in one process: the JVM of a local Spark session is
heavy (2 GB driver) and stays up as long as its Python process, so it must not live in the
pytest process; dbt runs in-process (carepulse.dbt_runner.run_dbt_in_process) so dbt, the
ML step and the reads share one session, which lets the catalog be in memory
(CAREPULSE_SPARK_CATALOG=in-memory: no Derby metastore round trip per statement).

Data tests and unit tests are left out here (the DuckDB side runs them; a full
`dbt build --target spark` runs them on Spark): this compares the data, and on two busy
cores each of ~470 tests costs Spark a second or more.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: Only models, seeds and snapshots: see the module docstring.
NO_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]

#: Runtime settings for kilobyte-sized data, set on the session before dbt reuses it
#: (dbt-spark's getOrCreate keeps them: the profile does not set these keys). None changes
#: a result, only how the work is planned:
#: - a day-partitioned table (730 day folders) is listed on the driver: above the threshold
#:   (default 32 folders) Spark lists with a job of one task per folder, on every read;
#: - files are packed into a task by size with no per-file cost (default: 4 MB per file,
#:   so a scan of the 730 files of 6 KB ran 23 tasks);
#: - no adaptive re-planning of the one-partition shuffles.
TINY_DATA_CONF = {
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.sql.files.openCostInBytes": "0",
    "spark.sql.adaptive.enabled": "false",
}


def _tuned_session() -> None:
    """The session the profile describes (ml.warehouse.spark_session reads the same
    environment variables), started before dbt's first statement, with TINY_DATA_CONF."""
    from ml.warehouse import spark_session

    session = spark_session()
    for key, value in TINY_DATA_CONF.items():
        session.conf.set(key, value)


def build_and_dump(raw: Path, work: Path, out: Path) -> list[str]:
    """Build RAW on Spark under WORK (dbt, ML step, post-ML), pickle marts and ml to OUT;
    returns the relations written."""
    from conftest import TEST_TRAIN_SEED, TEST_TRAIN_SETTINGS

    from carepulse.config import Settings
    from carepulse.dbt_runner import run_dbt_in_process
    from ml.config import TrainConfig
    from ml.score import score
    from ml.train import train
    from ml.warehouse import SparkConnection

    os.environ.update(CAREPULSE_TARGET="spark", CAREPULSE_SPARK_CATALOG="in-memory")
    settings = Settings.from_env(raw_dir=raw, db_path=work / "carepulse.duckdb", target="spark")
    # the JVM starts (tens of seconds) while dbt parses the project, which needs no Spark;
    # the build then reuses the parse (partial parsing: same project, profile and env vars)
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = pool.submit(_tuned_session)
        run_dbt_in_process(["parse"], settings)
        started.result()
    run_dbt_in_process(["build", *NO_TESTS], settings)
    config = TrainConfig(**TEST_TRAIN_SETTINGS)
    train(settings.db_path, work / "models", seed=TEST_TRAIN_SEED, config=config, progress=lambda _message: None)
    score(settings.db_path, work / "models", progress=lambda _message: None)
    run_dbt_in_process(["build", "--selector", "post_ml", *NO_TESTS], settings)

    con = SparkConnection()
    names = sorted(name for name in con.relations() if name.split(".")[0] in ("marts", "ml"))
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        con.execute(f"select * from {name}").fetchdf().to_pickle(out / f"{name}.pkl")
    return names


if __name__ == "__main__":
    raw_dir, work_dir, out_dir = (Path(arg).absolute() for arg in sys.argv[1:4])
    written = build_and_dump(raw_dir, work_dir, out_dir)
    print(f"spark_side: wrote {len(written)} relations to {out_dir}")
