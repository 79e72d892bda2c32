"""The main job, in order: demo data if needed → dbt → ML → post-ML dbt models → report.

The warehouse is built in a private copy and published with an atomic rename, so a BI
tool reading the published file never sees a half-built warehouse, and a failed build
leaves the published one as it was. One build at a time per warehouse: the build lock
(carepulse.build_lock) makes a second build wait or refuse, and every build works in a
file of its own that no other build deletes.

Every step is imported and run unconditionally: a broken module fails the build loudly
instead of being skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from carepulse.build_lock import (
    BuildBusy,
    build_lock,
    private_build_path,
    remove,
    remove_build_files,
    stale_build_files,
)
from carepulse.config import RAW_TABLES, Settings, raw_files_present, raw_table_present
from carepulse.dbt_runner import StepFailed, run_dbt, run_dbt_in_process
from carepulse.publish import clone_or_copy, publish, refresh_spare, start_from_spare, usable_spare
from carepulse.retrain import RETRAIN_AFTER_DAYS, current_as_of, decide, last_run
from carepulse.state import build_fingerprint, is_up_to_date, record_build

DEMO_SCALE = 0.1
DEMO_SEED = 42


@dataclass
class BuildOptions:
    """What `carepulse build` was asked to do."""

    force: bool = False
    demo_scale: float = DEMO_SCALE
    seed: int = DEMO_SEED
    with_ml: bool = True
    with_report: bool = True
    full_refresh: bool = False
    #: Retrain the models even when the saved model is recent enough (carepulse.retrain).
    retrain: bool = False
    retrain_after_days: int = RETRAIN_AFTER_DAYS
    #: Another build of the same warehouse running: wait for it (True) or refuse at once.
    wait: bool = True
    #: dbt node selection for the first dbt build (dbt's --select syntax); empty = the whole
    #: project (the default selector). Part of the fingerprint, so a later full build runs.
    select: tuple[str, ...] = ()


@dataclass
class BuildResult:
    skipped: bool
    steps: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _say(message: str) -> None:
    print(f"carepulse: {message}", flush=True)


def ensure_raw_data(settings: Settings, scale: float, seed: int) -> bool:
    """Generate demo data when the raw folder has no input at all; True when generated.

    A folder with some but not all contract files is a user's data set that is incomplete:
    say which files are missing rather than overwrite anything.
    """
    raw_dir = settings.raw_dir
    if raw_files_present(raw_dir):
        return False
    present = [t for t in RAW_TABLES if raw_table_present(raw_dir, t)]
    if present:
        missing = [t for t in RAW_TABLES if t not in present]
        raise StepFailed(
            f"raw folder {raw_dir} is incomplete: missing {', '.join(f'{t}.parquet/.csv' for t in missing)}"
        )
    from carepulse.generate import generate

    _say(f"no raw files in {raw_dir}: generating demo data (scale {scale}, seed {seed})")
    generate(scale=scale, seed=seed, out=raw_dir, fmt="parquet", dirty_rate=0.0)
    return True


def _timed(result: BuildResult, name: str, step: Callable[[], object]) -> None:
    _say(f"[{len(result.steps) + 1}] {name}")
    started = time.perf_counter()
    step()
    result.seconds[name] = round(time.perf_counter() - started, 2)
    result.steps.append(name)


def _plain_step(name: str, step: Callable[[], object]) -> Callable[[], object]:
    """A Python step's own errors (too little history, no warehouse, an untrusted model
    file, a model folder that cannot be written) as one plain StepFailed line;
    programming errors (TypeError, KeyError, ...) keep their traceback."""

    def run() -> object:
        try:
            return step()
        except (ValueError, RuntimeError, OSError) as error:
            raise StepFailed(f"{name}: {error}") from error

    return run


def _checkpoint(path: Path) -> None:
    """Fold any write-ahead log into the file: the log is named after the private file and
    would not follow it through the rename."""
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _train(train: Callable[..., object], building: Path, models: Path, config: object) -> object:
    """ml train into the model folder, made first: a path that cannot be a folder fails at
    once instead of after minutes of fitting (the model registry makes it only to save)."""
    models.mkdir(parents=True, exist_ok=True)
    return train(building, models, config=config)


def _remove_leftovers(settings: Settings) -> None:
    """Delete private files of builds that were killed (their owner PID is gone)."""
    for leftover in stale_build_files(settings.db_path):
        _say(f"removing {leftover.name}, left by a build that no longer runs")
        remove(leftover)


def _start_private(db_path: Path, building: Path, options: BuildOptions) -> str:
    """Put the build's starting state at the private path; say which one it is."""
    complete = options.with_ml and not options.select
    spare, why = usable_spare(db_path) if complete else (None, "a partial build")
    if spare is not None:
        start_from_spare(spare, building, db_path)
        return f"started from the spare (the file the last publish replaced) with the ml schema of {db_path.name}"
    return f"started from a {clone_or_copy(db_path, building)} of {db_path.name} ({why})"


def _keep_spare(db_path: Path) -> str:
    """After a build from scratch, a spare for the next build; none (and why) if it cannot be
    written: the build itself is published either way."""
    try:
        return f"kept a {refresh_spare(db_path)} of {db_path.name} for the next build to start from"
    except OSError as error:
        return f"no spare kept for the next build ({error}); it will copy {db_path.name}"


def build(settings: Settings, options: BuildOptions) -> BuildResult:
    """Run the whole job under the warehouse's build lock; raise StepFailed with a plain
    message on the first failure (including another build running with wait=False)."""
    try:
        with build_lock(settings.db_path, options.wait, _say) as lock_fd:
            return _build_locked(settings, options, lock_fd)
    except BuildBusy as busy:
        raise StepFailed(str(busy)) from None


def _build_locked(settings: Settings, options: BuildOptions, lock_fd: int) -> BuildResult:
    _remove_leftovers(settings)
    ensure_raw_data(settings, options.demo_scale, options.seed)
    db_path = settings.db_path
    fingerprint = build_fingerprint(
        settings,
        {"ml": str(options.with_ml), "report": str(options.with_report), "select": " ".join(options.select)},
    )
    if not options.force and not options.full_refresh and is_up_to_date(db_path, fingerprint):
        _say(f"{db_path} is up to date: nothing changed since the last build (use --force to rebuild)")
        return BuildResult(skipped=True)

    result = BuildResult(skipped=False)
    if settings.target == "spark":
        return _build_on_spark(settings, options, fingerprint, result)
    building = private_build_path(db_path)
    building.parent.mkdir()

    # dbt inherits the lock: a dbt still running after its parent was killed keeps the
    # warehouse locked, so no later build removes the file it writes.
    def dbt(args: list[str]) -> Callable[[], None]:
        return lambda: run_dbt(args, settings, db_path=building, pass_fds=(lock_fd,))

    from_scratch = options.full_refresh or not db_path.exists()
    try:
        if not from_scratch:
            # Start from the warehouse's earlier state so incremental models only add what is
            # new: the spare or a copy of the published file (carepulse.publish).
            _timed(result, "private build file", lambda: _say(_start_private(db_path, building, options)))
        _dbt_and_ml(result, settings, options, building, dbt)
        _checkpoint(building)
        publish(building, db_path, keep_previous=not from_scratch)
    except BaseException:
        remove_build_files(building)
        raise
    remove_build_files(building)  # companions only: the file itself is published
    _say(f"published {db_path}")
    if from_scratch:
        _timed(result, "spare for the next build", lambda: _say(_keep_spare(db_path)))

    _report_and_record(result, settings, options, fingerprint)
    return result


def _dbt_and_ml(
    result: BuildResult,
    settings: Settings,
    options: BuildOptions,
    db_path: Path,
    dbt: Callable[[list[str]], Callable[[], None]],
) -> None:
    """dbt build, then (with ML) train when the retrain policy says so, score and the post-ML
    models: the chain both engines run. db_path: the warehouse the ML step opens (DuckDB's
    private build file; on Spark the session's tables, whatever the path)."""
    # Unit tests check model logic on fixed inputs, not the day's data: they run in `make test`
    # and in a plain `dbt build`, not in every production build (dbt's advice; 15 of them took
    # about 6 s of node time per build at scale 1).
    dbt_build = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if options.full_refresh else [])
    # A partial build runs only the tests whose every parent it builds (dbt's cautious
    # indirect selection): a test of an unbuilt model has nothing to read.
    selection = ["--select", *options.select, "--indirect-selection", "cautious"] if options.select else []
    _timed(result, "dbt build (staging, audit, intermediate, marts)", dbt([*dbt_build, *selection]))
    if options.with_ml:
        from ml.config import TrainConfig
        from ml.score import score
        from ml.train import train

        config = TrainConfig(n_jobs=settings.ml_threads)
        models = settings.model_dir
        decision = decide(
            options.retrain, last_run(db_path, models), current_as_of(db_path), options.retrain_after_days
        )
        _say(decision.reason)
        if decision.retrain:
            _timed(result, "ml train", _plain_step("ml train", lambda: _train(train, db_path, models, config)))
        _timed(result, "ml score", _plain_step("ml score", lambda: score(db_path, models)))
        # --no-write-json: dbt would write manifest.json twice more (about 2 s of CPU at scale 1,
        # a seventh of this step) and the semantic manifest for the same project; target/ keeps
        # the artifacts and run_results.json of the dbt build above, the run worth reading.
        _timed(result, "dbt build post-ML models", dbt([*dbt_build, "--selector", "post_ml", "--no-write-json"]))


def _build_on_spark(settings: Settings, options: BuildOptions, fingerprint: str, result: BuildResult) -> BuildResult:
    """The same chain on Spark (issue 14): dbt --target spark, the ML step through a
    SparkSession (ml/warehouse.py), the post-ML models, the report, all in this process
    (run_dbt_in_process: one JVM holds the local metastore).

    Spark tables live in the metastore and warehouse folder of the profile, not in one file,
    so there is no private copy to publish: tables are replaced one by one as dbt builds them
    (readers of a table see its old or its new files)."""
    # The ML step and the report run in this process and pick their engine from here.
    os.environ["CAREPULSE_TARGET"] = settings.target

    def dbt(args: list[str]) -> Callable[[], None]:
        return lambda: run_dbt_in_process(args, settings)

    _dbt_and_ml(result, settings, options, settings.db_path, dbt)
    _report_and_record(result, settings, options, fingerprint)
    return result


def _report_and_record(result: BuildResult, settings: Settings, options: BuildOptions, fingerprint: str) -> None:
    """The report of the published warehouse, then the build's record (both engines)."""
    if options.with_report:
        from carepulse.report import render_report

        _timed(
            result,
            "report",
            _plain_step("report", lambda: render_report(settings.db_path, settings.report_dir, settings.threads)),
        )
    record_build(settings.db_path, fingerprint, result.steps)
