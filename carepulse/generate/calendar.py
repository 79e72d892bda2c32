"""The history window, day indexing and time-of-day sampling shared by every table.

Why day indices: the churn process, the event counts and the ground-truth oracle all work
on the same daily grid (day 0 = first day of history), so the oracle can reproduce the
generator's event rates exactly. Timestamps are seconds since the window start until
they are written, then become naive datetime64[s] values (no timezone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from . import params

SECONDS_PER_DAY = 86_400
#: Day lookups are valid this many days before the window start and after its end.
_PAD = 4_000


@dataclass(frozen=True)
class Window:
    """Two calendar years of history ending at (and including) end_date."""

    end_date: date

    @property
    def start_date(self) -> date:
        """The day after end_date minus HISTORY_YEARS years (2024-01-01 for 2025-12-31)."""
        try:
            back = self.end_date.replace(year=self.end_date.year - params.HISTORY_YEARS)
        except ValueError:  # 29 February
            back = self.end_date.replace(year=self.end_date.year - params.HISTORY_YEARS, day=28)
        return back + timedelta(days=1)

    @property
    def end_day(self) -> int:
        """Day index of end_date (day 0 = start_date)."""
        return (self.end_date - self.start_date).days

    @property
    def n_days(self) -> int:
        return self.end_day + 1

    @property
    def start64(self) -> np.datetime64:
        return np.datetime64(self.start_date, "s")

    @cached_property
    def _day_dates(self) -> np.ndarray:
        """datetime64[D] of day indices -PAD .. n_days + PAD (lookups reach a little outside)."""
        return np.datetime64(self.start_date, "D") + np.arange(-_PAD, self.n_days + _PAD)

    @cached_property
    def _weekday(self) -> np.ndarray:
        return ((self._day_dates.astype("int64") + 3) % 7).astype(np.int8)

    @cached_property
    def _activity(self) -> np.ndarray:
        month0 = (self._day_dates.astype("datetime64[M]").astype("int64") % 12).astype(np.int8)
        return np.asarray(params.SEASONALITY)[month0] * np.asarray(params.WEEKDAY_FACTOR)[self._weekday]

    def weekday(self, days: np.ndarray) -> np.ndarray:
        """0 = Monday, for day indices."""
        return self._weekday[np.asarray(days, dtype=np.int64) + _PAD]

    def activity_factor(self, days: np.ndarray) -> np.ndarray:
        """Seasonality (winter higher) x weekday (weekend lower) multiplier of the event rate."""
        return self._activity[np.asarray(days, dtype=np.int64) + _PAD]

    def to_timestamp(self, seconds: np.ndarray) -> np.ndarray:
        """Seconds since the window start -> naive datetime64[s]."""
        return self.start64 + np.asarray(seconds, dtype="int64").astype("timedelta64[s]")

    def to_date(self, days: np.ndarray) -> np.ndarray:
        """Day index -> datetime64[D]."""
        return np.datetime64(self.start_date, "D") + np.asarray(days, dtype="int64").astype("timedelta64[D]")

    def day_of(self, d: date) -> int:
        """Day index of a calendar date (may be outside the window)."""
        return (d - self.start_date).days


def sample_hours(rng: np.random.Generator, n: int, weights: tuple[float, ...]) -> np.ndarray:
    """Hour of day 0..23 drawn from relative weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(24, size=n, p=p / p.sum()).astype(np.int64)


def sample_time_of_day(rng: np.random.Generator, n: int, weights: tuple[float, ...]) -> np.ndarray:
    """Seconds into the day: an hour from the profile, then a uniform minute and second."""
    return sample_hours(rng, n, weights) * 3600 + rng.integers(0, 3600, size=n)
