"""`python -m ml train|score`: the ML step on its own, for the warehouse in CAREPULSE_DB.

Exit status 0 on success; 1 with one plain line on stderr on failure (the full traceback
only with --verbose), so `carepulse build` and schedulers can report it as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from .config import default_db_path, default_model_dir


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train", "score"])
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $CAREPULSE_DB)")
    parser.add_argument("--model-dir", type=Path, default=None, help="model files (default: $CAREPULSE_MODEL_DIR)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="train: as-of date (YYYY-MM-DD)")
    parser.add_argument("--seed", type=int, default=42, help="train: random seed")
    parser.add_argument("--run-id", default=None, help="score: run id of the model (default: latest)")
    parser.add_argument("--verbose", action="store_true", help="show the traceback on failure")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    db_path = args.db or default_db_path()
    model_dir = args.model_dir or default_model_dir()
    try:
        if args.command == "train":
            from .train import train

            result = train(db_path, model_dir, as_of=args.as_of, seed=args.seed)
        else:
            from .score import score

            result = score(db_path, model_dir, run_id=args.run_id)
    except Exception as error:  # one plain line for the operator
        if args.verbose:
            raise
        print(f"ml {args.command} failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
