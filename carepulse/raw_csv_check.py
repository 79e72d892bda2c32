"""Which line of a raw CSV file stops DuckDB's CSV reader, found by DuckDB itself.

Why this exists: the build reads raw CSVs strictly and quarantines each line it cannot parse,
but DuckDB's strict parser gives up on a whole file at some bytes (a carriage return that
does not end a line, outside quotes; line endings that change from CRLF to LF within the
file; binary data holding such a byte) with only "The CSV Parser state machine reached an
invalid state" and the file name: no line, and ignore_errors cannot skip it. Its state
machine's rules are subtle (after a comma a lone CR passes in an LF file, after a letter it
does not), so rather than re-implement them, this module asks DuckDB: it reads growing
prefixes of the file with the build's reader options and bisects to the first line whose
prefix fails. It runs only after a failed dbt step, and never prints a line's text (it may
hold identifiers).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import duckdb

from carepulse.config import RAW_TABLES


@dataclass(frozen=True)
class UnreadableLine:
    """The first line of a raw CSV file that DuckDB's CSV reader cannot read past."""

    file: str  # below the raw folder, e.g. claims.csv or claims/2026-01-02.csv
    line: int  # 1-based, counting line feeds

    def message(self) -> str:
        return (
            f"raw file {self.file}, line {self.line}: DuckDB's CSV reader cannot read past this line "
            "(a carriage return that does not end a line outside quotes, line endings that change "
            "between CRLF and LF within the file, or binary data); fix or remove the line "
            "(see the raw input contract in README.md)"
        )


def glob_escaped(path: str) -> str:
    """The path as a DuckDB glob pattern matching only itself (as macro glob_escaped does)."""
    return path.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def raw_csv_files(raw_dir: Path) -> list[Path]:
    """The raw tables' CSV files: <table>.csv and <table>/*.csv (dot files skipped)."""
    found = []
    for table in RAW_TABLES:
        single = raw_dir / f"{table}.csv"
        if single.is_file():
            found.append(single)
        folder = raw_dir / table
        if folder.is_dir():
            found += sorted(p for p in folder.glob("*.csv") if p.is_file() and not p.name.startswith("."))
    return found


def reads(con: duckdb.DuckDBPyConnection, path: Path, columns: int) -> bool:
    """Whether DuckDB reads the file to its end with the build's CSV options (the hook's
    raw_reader: no sniffer, all text, bad lines skipped)."""
    names = ", ".join(f"'c{i}': 'varchar'" for i in range(columns))
    used = ", ".join(f"c{i}" for i in range(columns))
    sql = (
        f"select count(*) from read_csv(?, header = true, auto_detect = false, columns = {{{names}}},"
        f" delim = ',', quote = '\"', escape = '\"', ignore_errors = true)"
        f" where length(concat({used})) >= 0"
    )
    try:
        con.execute(sql, [glob_escaped(str(path))]).fetchall()
    except duckdb.Error:
        return False
    return True


def first_unreadable_line(path: Path) -> int | None:
    """The first line whose prefix of the file DuckDB cannot read, or None when it reads all."""
    with path.open("rb") as file:
        columns = file.readline().count(b",") + 1
    with duckdb.connect() as con:
        if reads(con, path, columns):
            return None
        data = path.read_bytes()
        ends = list(accumulate(len(line) + 1 for line in data.split(b"\n")))
        ends[-1] = len(data)  # the last piece has no line feed after it
        if len(ends) > 1 and ends[-1] == ends[-2]:
            ends.pop()  # the file ends with a line feed
        with tempfile.TemporaryDirectory(prefix="carepulse_csv_check_") as folder:
            prefix = Path(folder) / "prefix.csv"

            def fails(lines: int) -> bool:
                prefix.write_bytes(data[: ends[lines - 1]])
                return not reads(con, prefix, columns)

            low, high = 1, len(ends)  # the whole file fails: find the fewest lines that fail
            while low < high:
                middle = (low + high) // 2
                if fails(middle):
                    high = middle
                else:
                    low = middle + 1
            return low


def unreadable_lines(raw_dir: Path) -> list[UnreadableLine]:
    """Every raw CSV file that DuckDB cannot read to its end, with its first such line."""
    found = []
    for path in raw_csv_files(raw_dir):
        line = first_unreadable_line(path)
        if line is not None:
            found.append(UnreadableLine(path.relative_to(raw_dir).as_posix(), line))
    return found
