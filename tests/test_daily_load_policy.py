"""Daily-load policies of `carepulse build` (issue 13). Retrain (point 3): retrain when
asked, when there is no model to score with, or when the saved model's as-of date is more
than --retrain-after-days (30) days before the new build's; otherwise score with it and say
so. The decision is pure (carepulse.retrain.decide); the warehouse side reads the session's
ML build (read-only). Publish (point 5): the private file a build starts from is a clone
or a full copy, never an overwrite."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from carepulse.cli import build_parser
from carepulse.retrain import LastRun, current_as_of, decide, last_run

TRAINED = LastRun(run_id="r1", as_of_date=date(2026, 1, 1), model_file_exists=True)


@pytest.mark.parametrize(
    ("asked", "last", "as_of", "retrain", "says"),
    [
        (True, TRAINED, date(2026, 1, 2), True, "asked for"),
        (False, None, date(2026, 1, 2), True, "no trained model"),
        (False, LastRun("r1", date(2026, 1, 1), False), date(2026, 1, 2), True, "model file of run r1 is missing"),
        (False, TRAINED, date(2026, 1, 31), False, "scoring with the saved model r1"),  # 30 days: not older
        (False, TRAINED, date(2026, 2, 1), True, "31 days before 2026-02-01"),
    ],
)
def test_decide(asked: bool, last: LastRun | None, as_of: date, retrain: bool, says: str) -> None:
    decision = decide(asked, last, as_of, 30)
    assert decision.retrain is retrain and says in decision.reason


def test_bad_retrain_after_days_is_refused() -> None:
    with pytest.raises(ValueError, match="retrain-after-days"):
        decide(False, TRAINED, date(2026, 1, 2), -1)
    args = build_parser().parse_args(["build", "--retrain", "--retrain-after-days", "7"])
    assert args.retrain and args.retrain_after_days == 7
    with pytest.raises(SystemExit):
        build_parser().parse_args(["build", "--retrain-after-days", "soon"])


def test_last_run_reads_the_warehouse_and_the_model_folder(ml_session_warehouse: Path, tmp_path: Path) -> None:
    models = ml_session_warehouse.parent / "models"
    last = last_run(ml_session_warehouse, models)
    assert last is not None and last.model_file_exists
    assert last.as_of_date == current_as_of(ml_session_warehouse)
    assert decide(False, last, current_as_of(ml_session_warehouse), 30).retrain is False
    assert last_run(ml_session_warehouse, tmp_path).model_file_exists is False
    fresh = tmp_path / "fresh.duckdb"
    shutil.copy2(ml_session_warehouse, fresh)
    with duckdb.connect(str(fresh)) as con:
        con.execute("drop schema ml cascade")
    assert last_run(fresh, models) is None


def test_the_private_copy_is_a_clone_or_a_full_copy(tmp_path: Path) -> None:
    from carepulse.publish import clone_or_copy

    source = tmp_path / "published.duckdb"
    source.write_bytes(bytes(range(256)) * 4096)
    kind = clone_or_copy(source, tmp_path / "private")
    assert kind in ("clone", "copy") and (tmp_path / "private").read_bytes() == source.read_bytes()
    with pytest.raises(FileExistsError):  # never overwrites: each build has a file of its own
        clone_or_copy(source, tmp_path / "private")


def test_incremental_bench_reads_the_build_step_timings(tmp_path: Path) -> None:
    from carepulse.bench_incremental import _build_steps

    log = tmp_path / "build.log"
    log.write_text(
        "carepulse: scoring with the saved model r1\n"
        "carepulse: build finished (copy published warehouse: 0.5s, dbt build (staging, audit): 12.25s, ml score: 3.0s)\n"
    )
    assert _build_steps(log) == {"copy published warehouse": 0.5, "dbt build (staging, audit)": 12.25, "ml score": 3.0}


def test_a_new_file_in_a_table_folder_makes_the_build_out_of_date(tmp_path: Path) -> None:
    """`carepulse build` skips a build when nothing changed: a day's file added to a table
    folder is a change (it was not, when only top-level files were fingerprinted)."""
    from carepulse.config import Settings
    from carepulse.state import build_fingerprint

    raw = tmp_path / "raw"
    (raw / "engagement_events").mkdir(parents=True)
    (raw / "engagement_events" / "history.parquet").write_bytes(b"history")
    settings = Settings.from_env({}, raw_dir=raw, db_path=tmp_path / "wh.duckdb")
    before = build_fingerprint(settings)
    (raw / "engagement_events" / ".2026-01-02.parquet.partial").write_bytes(b"being written")
    assert build_fingerprint(settings) == before  # dot files are skipped, as the loader does
    (raw / "engagement_events" / "2026-01-02.parquet").write_bytes(b"day")
    assert build_fingerprint(settings) != before
