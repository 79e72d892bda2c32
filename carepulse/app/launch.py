"""`carepulse app`: start the Streamlit explorer on the published warehouse.

Why `python -m streamlit run` in place of this process (exec): Streamlit owns its server
loop and signal handling; the CLI only checks what a user can fix first (the optional
extra, the warehouse file) and hands the resolved warehouse path over as CAREPULSE_DB, so
the app resolves the same Settings as every other command.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from carepulse.app.connection import EXTRA_HINT, ExtraMissing
from carepulse.config import Settings
from carepulse.dbt_runner import StepFailed

MAIN = Path(__file__).resolve().with_name("main.py")
#: Modules of the optional extra the explorer needs.
EXTRA_MODULES = ("streamlit", "sqlalchemy", "duckdb_engine")


def streamlit_command(port: int, address: str) -> list[str]:
    """The server command: headless (no browser opened), no usage statistics, no file watcher."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(MAIN),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--global.developmentMode",
        "false",
    ]


def run_app(settings: Settings, port: int, address: str) -> int:
    """Become the explorer's server (returns only by raising when something is missing)."""
    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise ExtraMissing(f"{', '.join(missing)} not installed: {EXTRA_HINT}")
    if not settings.db_path.is_file():
        raise StepFailed(f"no warehouse at {settings.db_path}: run `carepulse build` first")
    env = dict(os.environ, CAREPULSE_DB=str(settings.db_path))
    print(f"carepulse: explorer on http://{address}:{port} (read-only: {settings.db_path}); Ctrl-C stops it")
    sys.stdout.flush()
    # Replace this process with the server, so a signal sent to `carepulse app` (a terminal's
    # Ctrl-C, a service manager's SIGTERM) reaches Streamlit itself and leaves no orphan.
    command = streamlit_command(port, address)
    os.execve(command[0], command, env)
