"""Providers with valid NPIs, heavy-tailed claim volumes and billing windows.

Why the billing window: the provider segmentation rules use recency of the last claim, so
some providers join late and some stop billing months before end_date (Dormant Giants are
large providers that went quiet). Volumes are lognormal so that about a fifth of the
providers carry about four fifths of the revenue.

NPI: ten digits whose last digit is a Luhn check digit computed over '80840' followed by
the first nine digits (the CMS definition; 80840 is the health-industry prefix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import params
from .calendar import Window
from .ids import choice_strings, digits_matrix, strings_from_parts
from .seeding import rng_for

NPI_PREFIX = "80840"
#: Clean providers use nine-digit bases 100000000..189999999; 2xxxxxxxx is reserved for
#: orphan references and invalid NPIs injected as dirty rows.
CLEAN_BASE_LO, CLEAN_BASE_SPAN = 100_000_000, 90_000_000
RESERVED_BASE_LO = 200_000_000


def npi_check_digit(nine_digits: str) -> str:
    """The Luhn check digit of an NPI from its first nine digits ('123456789' -> '3')."""
    if len(nine_digits) != 9 or not nine_digits.isdigit():
        raise ValueError("an NPI base is exactly nine digits")
    total = 0
    # Luhn from the right over 80840 + nine digits: the rightmost digit is doubled first.
    for i, ch in enumerate(reversed(NPI_PREFIX + nine_digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """True for a ten-digit string whose last digit is the Luhn check digit of the first nine."""
    return isinstance(npi, str) and len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


def npi_check_digits(bases: np.ndarray) -> np.ndarray:
    """Vectorised npi_check_digit for integer nine-digit bases."""
    digits = digits_matrix(bases, 9).astype(np.int64) - ord("0")
    doubled = digits[:, 0::2] * 2  # positions 1,3,5,7,9 from the left are doubled
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    total = 24 + doubled.sum(axis=1) + digits[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def npis_from_bases(bases: np.ndarray, check: np.ndarray | None = None) -> pa.StringArray:
    """Ten-digit NPI strings: base + check digit (or the given last digits)."""
    last = npi_check_digits(bases) if check is None else np.asarray(check)
    return strings_from_parts([digits_matrix(bases, 9), digits_matrix(last, 1)], len(bases))


@dataclass
class ProviderFrame:
    """Column arrays for all providers; index j is provider number j + 1."""

    n: int
    base: np.ndarray
    specialty: np.ndarray
    place: np.ndarray  # index into STATE_CITIES
    volume: np.ndarray  # relative claims per active day
    start_day: np.ndarray
    stop_day: np.ndarray

    def ids(self) -> pa.StringArray:
        return npis_from_bases(self.base)


def sample_providers(n: int, window: Window, seed: int) -> ProviderFrame:
    """Draw n providers with unique valid NPIs."""
    if n > CLEAN_BASE_SPAN:
        raise ValueError("too many providers")
    rng = rng_for(seed, "providers")
    stride = CLEAN_BASE_SPAN // max(n, 1)
    base = CLEAN_BASE_LO + np.arange(n, dtype=np.int64) * stride + rng.integers(0, stride, size=n)
    base = base[rng.permutation(n)]
    p = np.asarray(params.SPECIALTY_SHARES)
    specialty = rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)
    place = rng.integers(0, len(params.STATE_CITIES), size=n)
    volume = np.exp(params.PROVIDER_VOLUME_SIGMA * rng.standard_normal(n))
    late = rng.random(n) < params.PROVIDER_LATE_JOIN
    start_day = np.where(late, rng.integers(0, max(window.end_day - 60, 1), size=n), 0)
    stops = rng.random(n) < params.PROVIDER_STOP
    stop_at = start_day + 30 + np.floor(rng.random(n) * np.maximum(window.end_day - start_day - 31, 1)).astype(np.int64)
    stop_day = np.where(stops, np.minimum(stop_at, window.end_day), window.end_day)
    return ProviderFrame(
        n=n,
        base=base,
        specialty=specialty,
        place=place,
        volume=volume,
        start_day=start_day.astype(np.int64),
        stop_day=stop_day.astype(np.int64),
    )


def providers_table(pv: ProviderFrame) -> pa.Table:
    """The raw `providers` table."""
    numbers = np.arange(1, pv.n + 1, dtype=np.int64)
    states = tuple(s for s, _ in params.STATE_CITIES)
    cities = tuple(c for _, c in params.STATE_CITIES)
    return pa.table(
        {
            "provider_id": pv.ids(),
            "provider_name": strings_from_parts(
                [b"Provider ", digits_matrix(numbers, 5 if pv.n < 100_000 else 7), b" Clinic"], pv.n
            ),
            "specialty": choice_strings(params.SPECIALTIES, pv.specialty),
            "state": choice_strings(states, pv.place),
            "city": choice_strings(cities, pv.place),
        }
    )
