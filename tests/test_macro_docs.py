"""Every macro of the project is documented in a macros/**/*.yml file (issue 10, point 7),
so `dbt docs` shows what it does and what its arguments mean. Static: reads the macro
files and the YAML, no dbt run (the docs test in test_docs.py covers the built site).
"""

from __future__ import annotations

import re

import yaml
from conftest import PROJECT_DIR

MACROS = PROJECT_DIR / "macros"
DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\(([^)]*)\)")
#: Adapter implementations of a dispatched macro take the dispatching macro's arguments,
#: documented there; they need a description only.
IMPLEMENTATION = re.compile(r"^(default|duckdb|spark|postgres|snowflake|bigquery)__")


def _defined() -> dict[str, list[str]]:
    """Macro name (generic tests as test_<name>, as in dbt's manifest) -> argument names."""
    out = {}
    for path in sorted(MACROS.rglob("*.sql")):
        for kind, name, arguments in DEFINITION.findall(path.read_text()):
            names = [a.split("=")[0].strip() for a in arguments.split(",") if a.strip()]
            out[f"test_{name}" if kind == "test" else name] = names
    return out


def _documented() -> dict[str, dict]:
    out = {}
    for path in sorted(MACROS.rglob("*.yml")):
        for entry in yaml.safe_load(path.read_text()).get("macros") or []:
            assert entry["name"] not in out, f"{entry['name']} documented twice ({path})"
            out[entry["name"]] = entry
    return out


def test_every_macro_is_described_with_its_arguments() -> None:
    defined, documented = _defined(), _documented()
    assert len(defined) >= 50
    problems = []
    for name, arguments in sorted(defined.items()):
        entry = documented.get(name)
        if entry is None or not str(entry.get("description") or "").strip():
            problems.append(f"{name}: no description in macros/**/*.yml")
            continue
        if IMPLEMENTATION.match(name):
            continue
        described = {a["name"]: a for a in entry.get("arguments") or []}
        for argument in arguments:
            if not str((described.get(argument) or {}).get("description") or "").strip():
                problems.append(f"{name}: argument {argument} not described")
        for argument in set(described) - set(arguments):
            problems.append(f"{name}: documents argument {argument}, which it does not take")
    assert not problems, "\n".join(problems)


def test_no_documentation_for_a_macro_that_does_not_exist() -> None:
    stale = sorted(set(_documented()) - set(_defined()))
    assert not stale, f"documented in macros/**/*.yml but not defined: {stale}"
