"""`python -m ml train|score`: the ML step on its own, for the warehouse in CAREPULSE_DB.

Paths and threads come from the same carepulse.config.Settings as `carepulse build`
(environment, then --db / --model-dir), so the model folder defaults to <warehouse
folder>/models in both and `score` finds what `build` trained. Exit status 0 on success;
1 with one plain line on stderr on failure (the full traceback only with --verbose), so
`carepulse build` and schedulers can report it as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from carepulse.config import Settings

from .config import TrainConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train", "score"])
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $CAREPULSE_DB)")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="model files (default: $CAREPULSE_MODEL_DIR, else <db folder>/models)",
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="train: as-of date (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=42, help="train: random seed")
    parser.add_argument(
        "--segments-k", type=int, default=None, help="train: behavioural segments k (default: best silhouette, 3-8)"
    )
    parser.add_argument("--run-id", default=None, help="score: run id of the model (default: latest)")
    parser.add_argument("--verbose", action="store_true", help="show the traceback on failure")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(db_path=args.db, model_dir=args.model_dir)
        if args.command == "train":
            from .train import train

            config = TrainConfig(n_jobs=settings.ml_threads, segments_k=args.segments_k)
            result = train(settings.db_path, settings.model_dir, as_of=args.as_of, seed=args.seed, config=config)
        else:
            from .score import score

            result = score(settings.db_path, settings.model_dir, run_id=args.run_id)
    except Exception as error:  # one plain line for the operator
        if args.verbose:
            raise
        print(f"ml {args.command} failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
