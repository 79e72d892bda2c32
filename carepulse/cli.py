"""The `carepulse` command: generate demo data, build the warehouse, benchmark.

Every setting comes from the same environment variables profiles.yml reads
(CAREPULSE_RAW_DIR, CAREPULSE_DB, CAREPULSE_AS_OF, ...), so the CLI and a plain
`dbt build` always mean the same files; a flag (--db, --threads, ...) overrides its
variable. Both are resolved once into carepulse.config.Settings. Failures a user can
fix (a bad setting, a failed step, another build running) end with one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from carepulse.config import Settings, SettingsError
from carepulse.dbt_runner import StepFailed
from carepulse.pipeline import DEMO_SCALE, DEMO_SEED
from carepulse.retrain import RETRAIN_AFTER_DAYS

#: Settings every subcommand may override on the command line (dest name = Settings field).
_SETTING_FLAGS: dict[str, str] = {
    "raw_dir": "raw folder (default CAREPULSE_RAW_DIR or data/raw)",
    "db_path": "warehouse file (default CAREPULSE_DB or warehouse/carepulse.duckdb)",
    "model_dir": "model files (default CAREPULSE_MODEL_DIR or <warehouse folder>/models)",
    "report_dir": "report folder (default CAREPULSE_REPORT_DIR or <warehouse folder>/reports)",
    "temp_dir": "DuckDB spill folder (default CAREPULSE_TEMP_DIR or DuckDB's own)",
    "as_of": "analysis date YYYY-MM-DD (default CAREPULSE_AS_OF or the latest activity date)",
    "memory_limit": "DuckDB memory limit (default CAREPULSE_MEMORY_LIMIT or 3GB)",
    "threads": "dbt threads and report drawing processes (default CAREPULSE_THREADS or 2)",
    "ml_threads": "ML threads (default CAREPULSE_ML_THREADS or 1)",
    "target": "engine: duckdb or spark (default CAREPULSE_TARGET or duckdb; spark needs `make spark-setup`)",
}


def _non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (a clear error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of days >= 0, got {value}")
    return value


def _add_setting_flags(parser: argparse.ArgumentParser, *names: str) -> None:
    for name in names:
        flag = "--db" if name == "db_path" else "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, default=None, help=_SETTING_FLAGS[name])


def _settings(args: argparse.Namespace) -> Settings:
    """The one Settings of this command: environment, then the flags it was given."""
    return Settings.from_env(**{name: getattr(args, name) for name in _SETTING_FLAGS if hasattr(args, name)})


def _cmd_generate(args: argparse.Namespace) -> int:
    from carepulse.generate import generate

    out = Path(args.out) if args.out else _settings(args).raw_dir
    if args.append_days is not None:
        from carepulse.generate.append import append_days

        try:
            appended = append_days(out, args.append_days)
        except ValueError as error:
            print(f"carepulse: {error}", file=sys.stderr)
            return 1
        counts = ", ".join(f"{table} {rows:,}" for table, rows in appended.row_counts.items())
        print(f"carepulse: appended {', '.join(appended.days)} to {out} ({counts})")
        return 0
    result = generate(scale=args.scale, seed=args.seed, out=out, fmt=args.format, dirty_rate=args.dirty_rate)
    counts = ", ".join(f"{table} {rows:,}" for table, rows in result.row_counts.items())
    print(f"carepulse: wrote {out} ({counts}) in {result.seconds:.1f}s; ground truth in {result.truth_dir}")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from carepulse.pipeline import BuildOptions, build

    options = BuildOptions(
        force=args.force,
        demo_scale=args.demo_scale,
        seed=args.seed,
        with_ml=not args.no_ml,
        with_report=not args.no_report,
        full_refresh=args.full_refresh,
        retrain=args.retrain,
        retrain_after_days=args.retrain_after_days,
        wait=args.wait,
        select=tuple(args.select or ()),
    )
    result = build(_settings(args), options)
    if not result.skipped:
        timings = ", ".join(f"{name}: {seconds}s" for name, seconds in result.seconds.items())
        print(f"carepulse: build finished ({timings})")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.incremental:
        from carepulse.bench_incremental import run_incremental_bench

        path = run_incremental_bench(scale=args.scale, seed=args.seed, out_dir=Path(args.out_dir))
        print(f"carepulse: benchmark written to {path}")
        return 0
    if _settings(args).target == "spark":
        # the engines side by side: the same build on DuckDB and on local Spark
        from carepulse.bench_spark import run_spark_bench as run_bench
    else:
        from carepulse.bench import run_bench

    path = run_bench(scale=args.scale, seed=args.seed, out_dir=Path(args.out_dir), with_ml=not args.no_ml)
    print(f"carepulse: benchmark written to {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from carepulse.report import WarehouseNotReady, render_report

    settings = _settings(args)
    try:
        index = render_report(settings.db_path, settings.report_dir, settings.threads)
    except WarehouseNotReady as error:
        raise StepFailed(str(error)) from None
    print(f"carepulse: report written to {index}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from carepulse.export import export_tables

    settings = _settings(args)
    out_dir = Path(args.out_dir) if args.out_dir else settings.db_path.parent / "exports"
    written = export_tables(settings.db_path, out_dir, args.format)
    print(f"carepulse: exported {len(written)} tables to {out_dir}")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from carepulse.app.launch import run_app

    return run_app(_settings(args), port=args.port, address=args.address)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carepulse", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="write seeded synthetic raw input files")
    gen.add_argument(
        "--scale", type=float, default=DEMO_SCALE, help=f"1 = 100k patients, 5M events (default {DEMO_SCALE})"
    )
    gen.add_argument("--seed", type=int, default=DEMO_SEED)
    gen.add_argument("--out", help=_SETTING_FLAGS["raw_dir"])
    gen.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    gen.add_argument("--dirty-rate", type=float, default=0.0, help="share of injected bad rows per table")
    gen.add_argument(
        "--append-days",
        type=int,
        default=None,
        metavar="N",
        help="extend the generated set in --out by N days (new files in the table folders)",
    )
    gen.set_defaults(func=_cmd_generate)

    bld = commands.add_parser("build", help="demo data if needed, dbt build, ML, post-ML models, report")
    bld.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    bld.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    bld.add_argument(
        "--demo-scale", type=float, default=DEMO_SCALE, help="scale of demo data when the raw folder is empty"
    )
    bld.add_argument("--seed", type=int, default=DEMO_SEED)
    bld.add_argument("--no-ml", action="store_true", help="skip training, scoring and post-ML models")
    bld.add_argument("--retrain", action="store_true", help="retrain the models even if the saved one is recent")
    bld.add_argument(
        "--retrain-after-days",
        type=_non_negative_int,
        default=RETRAIN_AFTER_DAYS,
        metavar="N",
        help=f"retrain when the saved model's as-of date is more than N days old (default {RETRAIN_AFTER_DAYS})",
    )
    bld.add_argument("--no-report", action="store_true", help="skip the report")
    bld.add_argument(
        "--select",
        nargs="+",
        metavar="SPEC",
        help="build only these dbt nodes (dbt's --select syntax) into the published warehouse; default: everything",
    )
    bld.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when another build of the same warehouse runs, wait for it (default) or refuse at once",
    )
    _add_setting_flags(bld, *_SETTING_FLAGS)
    bld.set_defaults(func=_cmd_build)

    bench = commands.add_parser("bench", help="time generate, build and ML at a scale; write JSON")
    bench.add_argument("--scale", type=float, default=1.0)
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--out-dir", default="bench/results")
    bench.add_argument("--no-ml", action="store_true")
    bench.add_argument(
        "--incremental",
        action="store_true",
        help="full carepulse build vs append one day + incremental build (bench-incremental-scale-S.json)",
    )
    _add_setting_flags(bench, "target")
    bench.set_defaults(func=_cmd_bench)

    rep = commands.add_parser("report", help="render charts and index.html from the warehouse")
    rep.add_argument("--out-dir", "--report-dir", dest="report_dir", default=None, help=_SETTING_FLAGS["report_dir"])
    _add_setting_flags(rep, "db_path")
    rep.set_defaults(func=_cmd_report)

    exp = commands.add_parser("export", help="write marts and predictions as files for tools that read files")
    exp.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default="parquet",
        help="parquet (typed) or csv (header row, comma-separated, UTF-8; for CRM imports)",
    )
    exp.add_argument("--out-dir", default=None, help="target folder (default <warehouse folder>/exports)")
    _add_setting_flags(exp, "db_path")
    exp.set_defaults(func=_cmd_export)

    app = commands.add_parser("app", help="start the read-only Streamlit explorer (optional extra .[app])")
    app.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    app.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine)")
    _add_setting_flags(app, "db_path")
    app.set_defaults(func=_cmd_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (StepFailed, SettingsError) as failure:
        print(f"carepulse: {args.command} failed: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("carepulse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
