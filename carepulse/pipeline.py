"""The main job, in order: demo data if needed → dbt → ML → post-ML dbt models → report.

The warehouse is built in a private copy and published with an atomic rename, so a BI
tool reading the published file never sees a half-built warehouse, and a failed build
leaves the published one as it was.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from carepulse.config import PROJECT_DIR, RAW_TABLES, Settings, raw_files_present
from carepulse.dbt_runner import StepFailed, run_dbt
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
    present = [t for t in RAW_TABLES if (raw_dir / f"{t}.parquet").exists() or (raw_dir / f"{t}.csv").exists()]
    if present:
        missing = [t for t in RAW_TABLES if t not in present]
        raise StepFailed(
            f"raw folder {raw_dir} is incomplete: missing {', '.join(f'{t}.parquet/.csv' for t in missing)}"
        )
    from carepulse.generate import generate

    _say(f"no raw files in {raw_dir}: generating demo data (scale {scale}, seed {seed})")
    generate(scale=scale, seed=seed, out=raw_dir, fmt="parquet", dirty_rate=0.0)
    return True


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _has_post_ml_selector() -> bool:
    selectors = PROJECT_DIR / "selectors.yml"
    return selectors.exists() and "post_ml" in selectors.read_text()


def _timed(result: BuildResult, name: str, step: Callable[[], object]) -> None:
    _say(f"[{len(result.steps) + 1}] {name}")
    started = time.perf_counter()
    step()
    result.seconds[name] = round(time.perf_counter() - started, 2)
    result.steps.append(name)


def _ml_step(name: str, step: Callable[[], object]) -> Callable[[], object]:
    """The ML step's own errors (too little history, no warehouse) as one plain StepFailed line."""

    def run() -> object:
        try:
            return step()
        except (ValueError, RuntimeError, FileNotFoundError) as error:
            raise StepFailed(f"{name}: {error}") from error

    return run


def model_dir(settings: Settings) -> Path:
    return Path(os.environ.get("CAREPULSE_MODEL_DIR", settings.db_path.parent / "models"))


def build(settings: Settings, options: BuildOptions) -> BuildResult:
    """Run the whole job; raise StepFailed with a plain message on the first failure."""
    ensure_raw_data(settings, options.demo_scale, options.seed)
    db_path = settings.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = build_fingerprint(settings, {"ml": str(options.with_ml), "report": str(options.with_report)})
    if not options.force and not options.full_refresh and is_up_to_date(db_path, fingerprint):
        _say(f"{db_path} is up to date: nothing changed since the last build (use --force to rebuild)")
        return BuildResult(skipped=True)

    result = BuildResult(skipped=False)
    building = db_path.with_name(f".{db_path.name}.building")
    for stale in (building, building.with_name(building.name + ".wal")):
        stale.unlink(missing_ok=True)
    if db_path.exists() and not options.full_refresh:
        # Start from the published warehouse so incremental models only add what is new.
        shutil.copyfile(db_path, building)

    dbt_build = ["build"] + (["--full-refresh"] if options.full_refresh else [])
    try:
        _timed(result, "dbt build (staging, audit, intermediate, marts)",
               lambda: run_dbt(dbt_build, settings, db_path=building))
        if options.with_ml and _has_module("ml.train"):
            from ml.score import score
            from ml.train import train

            models = model_dir(settings)
            _timed(result, "ml train", _ml_step("ml train", lambda: train(building, models)))
            _timed(result, "ml score", _ml_step("ml score", lambda: score(building, models)))
            if _has_post_ml_selector():
                _timed(result, "dbt build post-ML models",
                       lambda: run_dbt([*dbt_build, "--selector", "post_ml"], settings, db_path=building))
        os.replace(building, db_path)
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    _say(f"published {db_path}")

    if options.with_report and _has_module("carepulse.report"):
        from carepulse.report import render_report

        _timed(result, "report", lambda: render_report(db_path, PROJECT_DIR / "reports"))
    record_build(db_path, fingerprint, result.steps)
    return result
