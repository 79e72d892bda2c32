"""Seeded synthetic data for carepulse: six raw tables plus the ground truth behind them.

Why synthetic: the warehouse and the models need realistic, reproducible input with a known
signal (documented in docs/generator.md) so that tests can check the analytics recover it.

    from carepulse.generate import generate
    result = generate(scale=0.05, seed=42, out="data/raw", fmt="parquet", dirty_rate=0.0)
"""

from __future__ import annotations

from .pipeline import GenerateResult, generate
from .providers import is_valid_npi, npi_check_digit
from .truth import observable_churn_probability, oracle_churn_probability

__all__ = [
    "GenerateResult",
    "generate",
    "is_valid_npi",
    "npi_check_digit",
    "observable_churn_probability",
    "oracle_churn_probability",
]
