"""Patients: demographics, the factors of the churn model and each patient's churn draw.

Why all in one pass over the whole population: every other table (events, calls, journeys,
claims) is conditioned on these arrays, and a million patients (scale 10) fit easily in
memory as numpy columns. The hazard and the churn time are drawn here so that the event
generator only has to stop emitting at the churn day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import params
from .calendar import SECONDS_PER_DAY, Window, sample_time_of_day
from .hazard import sample_churn_months
from .ids import choice_strings, digits_matrix, fixed_ids, strings_from_parts
from .seeding import rng_for

DAYS_PER_YEAR = 365.2425
#: Patient ids are 'P' + 7 digits; 8xxxxxx is reserved for injected bad patients and
#: 9xxxxxx for orphan references, so clean populations must stay below this.
MAX_CLEAN_PATIENTS = 7_999_999


@dataclass
class PatientFrame:
    """Column arrays for all patients; index i is patient number i + 1."""

    n: int
    condition: np.ndarray
    location: np.ndarray
    referral: np.ndarray
    plan: np.ndarray
    sex: np.ndarray
    zip_code: np.ndarray
    age: np.ndarray  # years at enrollment
    birth_date: np.ndarray  # datetime64[D]
    enroll_s: np.ndarray  # seconds since window start
    enroll_day: np.ndarray
    log_level0: np.ndarray
    level0: np.ndarray
    h0: np.ndarray  # monthly hazard at enrollment
    decay: np.ndarray  # monthly decay of the engagement level
    growth: np.ndarray  # monthly growth of the hazard = beta * decay
    churn_s: np.ndarray  # seconds since window start (float, may lie past the window)
    churn_day: np.ndarray
    exp_draw: np.ndarray  # the Exp(1) draw inverted into the churn time
    contributions: dict[str, np.ndarray] = field(default_factory=dict)
    first_number: int = 1  # appended days' new patients are numbered from 7,000,000 (generate.append)

    @property
    def numbers(self) -> np.ndarray:
        return np.arange(self.first_number, self.first_number + self.n, dtype=np.int64)

    def ids(self) -> pa.StringArray:
        return fixed_ids("P", self.numbers, 7)


def _categorical(rng: np.random.Generator, n: int, shares: tuple[float, ...]) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)


def sample_enrollment_days(rng: np.random.Generator, n: int, window: Window) -> np.ndarray:
    """Day index of enrollment with density falling linearly over the window (inverse CDF)."""
    a = params.ENROLL_SLOPE_A
    v = rng.random(n)
    u = a - np.sqrt(a * a - 2.0 * (a - 0.5) * v)
    return np.minimum((u * window.n_days).astype(np.int64), window.end_day)


def hazard_contributions(
    condition: np.ndarray,
    location: np.ndarray,
    referral: np.ndarray,
    plan: np.ndarray,
    sex: np.ndarray,
    age: np.ndarray,
    log_level0: np.ndarray,
) -> dict[str, np.ndarray]:
    """Each factor's additive term on the log monthly hazard at enrollment."""
    w = params.HAZARD_WEIGHTS
    lookup = {
        "primary_condition": (params.CONDITIONS, condition),
        "location_type": (params.LOCATIONS, location),
        "referral_source": (params.REFERRALS, referral),
        "plan_type": (params.PLANS, plan),
        "sex": (params.SEXES, sex),
    }
    out = {name: np.asarray([w[name][v] for v in values])[codes] for name, (values, codes) in lookup.items()}
    out["age"] = params.AGE_WEIGHT_PER_DECADE * (age - params.AGE_CENTER) / 10.0
    out["engagement"] = -params.ENGAGEMENT_BETA * log_level0
    return out


def hazard_from_contributions(
    contributions: dict[str, np.ndarray], intercept: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(h0, decay, growth): monthly hazard at enrollment, level decay and hazard growth."""
    log_h0 = intercept + sum(contributions.values())
    h0 = np.exp(log_h0)
    decay = np.clip(params.DECAY_BASE * np.exp(params.DECAY_GAMMA * (log_h0 - intercept)), 0.0, params.DECAY_MAX)
    return h0, decay, params.ENGAGEMENT_BETA * decay


def churn_from_draws(
    contributions: dict[str, np.ndarray], enroll_s: np.ndarray, exp_draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(h0, decay, growth, churn_s, churn_day) from the factor terms and the Exp(1) draws."""
    h0, decay, growth = hazard_from_contributions(contributions, params.HAZARD_INTERCEPT)
    churn_months = sample_churn_months(h0, growth, exp_draws)
    churn_s = enroll_s + np.minimum(churn_months, 1e4) * params.DAYS_PER_MONTH * SECONDS_PER_DAY
    churn_day = np.floor(churn_s / SECONDS_PER_DAY).astype(np.int64)
    return h0, decay, growth, churn_s, churn_day


def sample_patients(n: int, window: Window, seed: int) -> PatientFrame:
    """Draw n patients with their factors, latent engagement and churn time."""
    if n > MAX_CLEAN_PATIENTS:
        raise ValueError(f"at most {MAX_CLEAN_PATIENTS} patients are supported (scale < 80)")
    rng = rng_for(seed, "patients")
    condition = _categorical(rng, n, params.CONDITION_SHARES)
    location = _categorical(rng, n, params.LOCATION_SHARES)
    referral = _categorical(rng, n, params.REFERRAL_SHARES)
    sex = _categorical(rng, n, params.SEX_SHARES)
    age = np.clip(rng.normal(params.AGE_MEAN, params.AGE_SD, n), params.AGE_MIN, params.AGE_MAX)
    plan_young = _categorical(rng, n, params.PLAN_SHARES_UNDER_65)
    plan_old = _categorical(rng, n, params.PLAN_SHARES_65_PLUS)
    plan = np.where(age >= 65, plan_old, plan_young).astype(np.int8)
    zip_code = rng.integers(501, 99951, size=n)
    enroll_day = sample_enrollment_days(rng, n, window)
    enroll_s = enroll_day * SECONDS_PER_DAY + sample_time_of_day(rng, n, params.EVENT_HOUR_WEIGHTS)
    birth_date = window.to_date(enroll_day) - np.round(age * DAYS_PER_YEAR).astype(np.int64).astype("timedelta64[D]")
    # age from the rounded birth date, so the truth matches what the raw table implies
    age = (window.to_date(enroll_day) - birth_date).astype(np.int64) / DAYS_PER_YEAR
    log_level0 = rng.normal(0.0, params.LEVEL_SIGMA, n)
    exp_draws = rng.exponential(1.0, n)

    contributions = hazard_contributions(condition, location, referral, plan, sex, age, log_level0)
    h0, decay, growth, churn_s, churn_day = churn_from_draws(contributions, enroll_s, exp_draws)
    return PatientFrame(
        n=n,
        condition=condition,
        location=location,
        referral=referral,
        plan=plan,
        sex=sex,
        zip_code=zip_code,
        age=age,
        birth_date=birth_date,
        enroll_s=enroll_s,
        enroll_day=enroll_day,
        log_level0=log_level0,
        level0=np.exp(log_level0),
        h0=h0,
        decay=decay,
        growth=growth,
        churn_s=churn_s,
        churn_day=churn_day,
        exp_draw=exp_draws,
        contributions=contributions,
    )


def patients_table(pf: PatientFrame, window: Window) -> pa.Table:
    """The raw `patients` table, typed. Names, e-mails and phones are obviously fake."""
    numbers = pf.numbers
    digits7 = digits_matrix(numbers, 7)
    n = pf.n
    phone = strings_from_parts(
        [b"555-01", digits_matrix((numbers // 10_000) % 100, 2), b"-", digits_matrix(numbers % 10_000, 4)], n
    )
    return pa.table(
        {
            "patient_id": pf.ids(),
            "first_name": strings_from_parts([b"Fakefirst", digits7], n),
            "last_name": strings_from_parts([b"Fakelast", digits7], n),
            "email": strings_from_parts([b"p", digits7, b"@example.invalid"], n),
            "phone": phone,
            "birth_date": pa.array(pf.birth_date, type=pa.date32()),
            "sex": choice_strings(params.SEXES, pf.sex),
            "zip_code": strings_from_parts([digits_matrix(pf.zip_code, 5)], n),
            "location_type": choice_strings(params.LOCATIONS, pf.location),
            "primary_condition": choice_strings(params.CONDITIONS, pf.condition),
            "referral_source": choice_strings(params.REFERRALS, pf.referral),
            "plan_type": choice_strings(params.PLANS, pf.plan),
            "enrolled_at": pa.array(window.to_timestamp(pf.enroll_s), type=pa.timestamp("s")),
        }
    )
