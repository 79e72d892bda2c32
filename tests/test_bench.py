"""The benchmark: it writes the documented JSON, and its `floor` and `pandas` baselines compute
the same figures as the marts (otherwise the speed ratios compare different work).

Also the one-way dependency of issue 10: `ml` runs on real data and must not import the
synthetic data generator; comparisons with ground truth live in carepulse.oracle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_DIR

from carepulse.bench import DOCUMENTED_KEYS, ML_KEYS, marts_figures

SCALE = 0.01


def test_ml_imports_without_the_generator() -> None:
    """Every module of `ml` imports with carepulse.generate made unimportable."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        from importlib.abc import MetaPathFinder

        class NoGenerator(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "carepulse.generate" or name.startswith("carepulse.generate."):
                    raise ImportError("the generator is not importable in this test")
                return None

        sys.meta_path.insert(0, NoGenerator())
        import ml
        names = [m.name for m in pkgutil.walk_packages(ml.__path__, "ml.")]
        for name in names:
            importlib.import_module(name)
        assert not any(m.startswith("carepulse.generate") for m in sys.modules)
        print(len(names))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 10  # the package's modules were really walked

    # and the blocker really blocks: the benchmark side needs the generator
    blocked = subprocess.run(
        [sys.executable, "-c", script.replace("import ml\n", "import carepulse.oracle\nimport ml\n")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert blocked.returncode != 0 and "generator is not importable" in blocked.stderr


# --------------------------------------------------------------------------- the real bench
@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """`carepulse bench` at a tiny scale, as a user runs it: (its JSON, its scratch folder)."""
    out = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREPULSE_")}
    env["CAREPULSE_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "carepulse", "bench", "--scale", str(SCALE), "--seed", "11", "--out-dir", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads((out / f"bench-scale-{SCALE:g}.json").read_text()), out / f"work-scale-{SCALE:g}"


def test_bench_writes_the_documented_keys(bench_run: tuple[dict[str, Any], Path]) -> None:
    figures, _ = bench_run
    assert set(DOCUMENTED_KEYS) | set(ML_KEYS) <= set(figures)
    steps = {"generate", "dbt_build", "floor", "pandas", "ml_train", "lr_fit", "ml_score", "dbt_post_ml", "report"}
    assert set(figures["steps"]) == steps
    for step in figures["steps"].values():
        assert step["returncode"] == 0 and step["seconds"] > 0 and step["peak_rss_mb"] > 0
    assert figures["end_to_end_seconds"] == pytest.approx(
        sum(figures["steps"][s]["seconds"] for s in ("dbt_build", "ml_train", "ml_score", "dbt_post_ml", "report")),
        abs=0.05,
    )
    ratios = figures["ratios"]
    for name in ("dbt_build_vs_floor", "ml_train_vs_lr_fit", "dbt_marts_vs_pandas"):
        assert ratios[name] > 0 and name in ratios["basis"]
    assert ratios["dbt_build_vs_floor"] == pytest.approx(
        figures["steps"]["dbt_build"]["seconds"] / figures["steps"]["floor"]["seconds"], rel=0.01
    )
    slowest = figures["dbt_slowest_nodes"]
    assert len(slowest) == 10 and [n["seconds"] for n in slowest] == sorted(
        (n["seconds"] for n in slowest), reverse=True
    )
    assert figures["dbt_seconds_by_family"] and figures["rows"]["marts.patient_churn"] > 0
    for model in ("churn", "engagement"):
        assert 0.5 < figures["model_quality"][model]["model_roc_auc"] <= 1
        candidates = figures["ml_recipe"][model]["candidates"]
        assert sum(c["is_selected"] for c in candidates.values()) == 1 and len(candidates) == 3
    # issue 15 points 1 and 5 against the generator (carepulse/oracle_studies.py)
    segments, value = figures["model_quality"]["behavioural_segments"], figures["model_quality"]["patient_value"]
    assert segments["k"] == len(segments["segments"]) >= 3 and segments["selected"] == [f"kmeans_k{segments['k']}"]
    assert -1 <= segments["ari_vs_true_latent_churned"] <= 1 and value["patients"] > 0
    # issue 15 point 3 against the generator's champion oracle (carepulse/oracle_champion.py)
    champion = figures["model_quality"]["champion"]
    assert champion["examples"] > 0 and "draws per example" in champion["oracle"]
    assert {"model_roc_auc", "oracle_roc_auc", "top_k_precision", "oracle_top_k_precision"} <= set(champion)


def test_floor_computes_the_same_figures_as_the_marts(bench_run: tuple[dict[str, Any], Path]) -> None:
    """The floor is an honest baseline only if it does the same work: same churn rate, same
    RFM segment sizes, same ROI per segment as the marts, on the same files."""
    figures, work = bench_run
    marts = marts_figures(work / "carepulse.duckdb")
    floor = marts_figures(work / "floor.duckdb", schema="main")
    assert marts["churn_rate"] > 0 and sum(marts["rfm_segment_counts"].values()) > 100
    assert floor["churn_rate"] == marts["churn_rate"]
    assert floor["rfm_segment_counts"] == marts["rfm_segment_counts"]
    assert floor["segment_roi"].keys() == marts["segment_roi"].keys()
    for segment, roi in marts["segment_roi"].items():
        assert floor["segment_roi"][segment] == (None if roi is None else pytest.approx(roi, rel=1e-9))
    assert figures["floor"]["figures"] == floor  # the JSON reports what the floor built
    # the pandas notebook way reads the same files; with clean data it agrees on churn
    assert figures["pandas"]["churn_rate"] == pytest.approx(marts["churn_rate"], abs=1e-6)
