"""Issue 11, data path: valid data never fails a test, hostile input never runs SQL or stops the build.

Each defect has a test that failed before its fix. Most cases share one raw set and one build
(dbt start-up dominates the run time); each test asserts its own case on that build.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import PROJECT_DIR, run_dbt

WILSON_Z = 1.959964


def wilson(successes: int, trials: int, z: float = WILSON_Z) -> tuple[float, float]:
    """Independent Wilson score interval, written from the textbook formula."""
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def show_inline(sql: str, tmp_path: Path) -> list[dict]:
    """Compile and run one inline query with the project's macros (`dbt show`, which runs no hooks)."""
    result = run_dbt(["--quiet", "show", "--inline", sql, "--output", "json", "--limit", "-1"],
                     tmp_path / "no_raw_needed", tmp_path / "show.duckdb")
    return json.loads(result.stdout[result.stdout.index("{"):])["show"]


def test_wilson_interval_holds_the_rate_exactly_at_the_edges(tmp_path: Path) -> None:
    """Defect 2: all-churned groups got an upper bound of 0.9999999999999998 < rate = 1."""
    grid = (
        "select n, k from (select range as n from range(1, 2001)) as sizes,"
        " lateral (select 0 as k union all select n union all select n // 3 union all select n - 1) as counts"
        " union all select n, k from (values (1000000, 1000000), (1000000, 0), (1000000000, 999999999),"
        " (1000000000, 1)) as big(n, k)"
    )
    rows = show_inline(
        "select n, k, {{ carepulse.safe_ratio('k', 'n') }} as rate,"
        " {{ carepulse.wilson_interval_bound('k', 'n', 'low') }} as lo,"
        " {{ carepulse.wilson_interval_bound('k', 'n', 'high') }} as hi"
        f" from ({grid}) as grid where k >= 0",
        tmp_path,
    )
    assert len(rows) > 7000
    broken = [row for row in rows if not (0.0 <= row["lo"] <= row["rate"] <= row["hi"] <= 1.0)]
    assert not broken, f"{len(broken)} intervals do not hold their rate, e.g. {broken[:3]}"
    for row in rows:
        low, high = wilson(row["k"], row["n"])
        assert row["lo"] == pytest.approx(low, abs=1e-12), row
        assert row["hi"] == pytest.approx(high, abs=1e-12), row
        if row["k"] == row["n"]:
            assert row["hi"] == 1.0, row
        if row["k"] == 0:
            assert row["lo"] == 0.0, row
    one = next(row for row in rows if row["n"] == 1 and row["k"] == 1)
    assert one["lo"] == pytest.approx(wilson(1, 1)[0], abs=1e-12) and one["hi"] == 1.0
