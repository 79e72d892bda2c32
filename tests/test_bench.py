"""The benchmark: it writes the documented JSON, and its `floor` and `pandas` baselines compute
the same figures as the marts (otherwise the speed ratios compare different work).

Also the one-way dependency of issue 10: `ml` runs on real data and must not import the
synthetic data generator; comparisons with ground truth live in carepulse.oracle.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import PROJECT_DIR


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
