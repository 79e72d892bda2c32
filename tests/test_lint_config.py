"""sqlfluff lints every SQL file that `make lint` names: none is skipped for its size."""

from __future__ import annotations

import configparser

from conftest import PROJECT_DIR

LINTED = ("models", "analyses", "tests/dbt")


def test_no_linted_file_is_skipped_for_its_size() -> None:
    """sqlfluff silently skips files larger than large_file_skip_byte_limit (raw bytes);
    the limit must be off (0) or above every linted file, and a skip must fail the lint."""
    config = configparser.ConfigParser()
    config.read(PROJECT_DIR / ".sqlfluff")
    limit = config.getint("sqlfluff", "large_file_skip_byte_limit")
    sizes = {
        str(path.relative_to(PROJECT_DIR)): path.stat().st_size
        for folder in LINTED
        for path in (PROJECT_DIR / folder).rglob("*.sql")
    }
    assert len(sizes) > 50
    skipped = sorted(name for name, size in sizes.items() if limit and size > limit)
    assert not skipped, f"sqlfluff would skip {skipped} (over {limit} bytes)"
    assert config.getboolean("sqlfluff", "large_file_skip_fail")
