"""Every number that shapes the synthetic data, in one place.

Why one module: the weights here ARE the documented signal. docs/generator.md explains
them and every run writes them verbatim to ground_truth/factor_weights.json, so an
analyst can check a model's findings against the truth. Values marked "calibrated" were
solved by carepulse.generate.calibrate so that the defaults reproduce the telehealth
retention study (74% churn, one condition at 83%, rural +2-3 points over urban,
word_of_mouth +5 points over doctor) and the volumes of the brief (5M events at scale 1).
"""

from __future__ import annotations

import math
from typing import Any

# --------------------------------------------------------------------------- volumes
#: Rows per unit of scale (scale 1 = 100k patients).
PATIENTS_PER_SCALE = 100_000
PROVIDERS_PER_SCALE = 5_000
CLAIMS_PER_SCALE = 520_000
CALLS_PER_SCALE = 300_000
#: Target engagement events per patient (5M at scale 1); r0 below is calibrated to it.
EVENTS_PER_PATIENT_TARGET = 50.0
#: Patients per random-number block. Fixed, so output does not depend on chunking.
BLOCK_SIZE = 10_000
#: Days of history: two calendar years ending at end_date.
HISTORY_YEARS = 2
#: Days in the "month" of the monthly hazard.
DAYS_PER_MONTH = 30.4375
#: Churn definition: churned when the last event is more than this many days before as-of.
CHURN_INACTIVITY_DAYS = 90

# --------------------------------------------------------------------------- patients
CONDITIONS = ("diabetes", "hypertension", "copd", "heart_failure", "depression")
CONDITION_SHARES = (0.27, 0.29, 0.10, 0.08, 0.26)
#: The condition whose churn the study puts at 83%.
HIGH_CHURN_CONDITION = "depression"

LOCATIONS = ("urban", "suburban", "rural")
LOCATION_SHARES = (0.45, 0.35, 0.20)

REFERRALS = ("doctor", "word_of_mouth", "online", "insurer", "other")
REFERRAL_SHARES = (0.34, 0.22, 0.24, 0.15, 0.05)

SEXES = ("F", "M", "U")
SEX_SHARES = (0.53, 0.46, 0.01)

PLANS = ("commercial", "medicare_advantage", "medicaid")
#: Plan mix depends on age (65+ is mostly Medicare Advantage): a deliberate confounder.
PLAN_SHARES_UNDER_65 = (0.62, 0.08, 0.30)
PLAN_SHARES_65_PLUS = (0.18, 0.72, 0.10)

AGE_MEAN, AGE_SD, AGE_MIN, AGE_MAX = 54.0, 15.0, 18.0, 95.0

#: Enrollment density over the two years falls linearly: f(u) ~ ENROLL_SLOPE_A - u, u in [0, 1].
#: A program that launched at the window start and has slowing inflow.
ENROLL_SLOPE_A = 1.5

# --------------------------------------------------------------------------- churn hazard
#: log monthly hazard = intercept + sum(factor weights) - ENGAGEMENT_BETA * log(level(t)).
HAZARD_INTERCEPT = -2.3472  # calibrated
HAZARD_WEIGHTS: dict[str, dict[str, float]] = {
    "primary_condition": {
        "diabetes": 0.0,
        "hypertension": 0.05,
        "copd": -0.05,
        "heart_failure": -0.12,
        "depression": 0.701,  # calibrated
    },
    "location_type": {"urban": 0.0, "suburban": 0.0565, "rural": 0.113},  # rural calibrated, suburban = rural/2
    "referral_source": {
        "doctor": 0.0,
        "word_of_mouth": 0.2441,  # calibrated
        "online": 0.10,
        "insurer": 0.05,
        "other": 0.12,
    },
    "plan_type": {"commercial": 0.0, "medicare_advantage": -0.08, "medicaid": 0.15},
    # sex is a null factor on purpose: a model that finds it important is overfitting.
    "sex": {"F": 0.0, "M": 0.0, "U": 0.0},
}
#: Age: contribution = AGE_WEIGHT_PER_DECADE * (age_at_enrollment - AGE_CENTER) / 10.
AGE_WEIGHT_PER_DECADE = -0.07
AGE_CENTER = 55.0
#: Latent engagement level: log(level0) ~ Normal(0, LEVEL_SIGMA).
LEVEL_SIGMA = 0.55
#: Hazard elasticity to the current engagement level.
ENGAGEMENT_BETA = 0.8
#: Monthly decay of the level: delta = DECAY_BASE * exp(DECAY_GAMMA * (log h0 - intercept)),
#: clipped to DECAY_MAX. Riskier patients fade faster, so the activity trend is predictive;
#: as the level falls the hazard rises (growth k = ENGAGEMENT_BETA * delta per month).
DECAY_BASE = 0.08
DECAY_GAMMA = 1.0
DECAY_MAX = 0.35

# --------------------------------------------------------------------------- events
#: Events per day for level 1 before seasonality and weekday factors.
EVENT_RATE_PER_DAY = 0.34  # calibrated
#: Multiplier per calendar month (index 0 = January): winter higher.
SEASONALITY = tuple(round(1.0 + 0.15 * math.cos(2 * math.pi * m / 12), 4) for m in range(12))
#: Multiplier per weekday (0 = Monday): weekends lower; mean 1.
WEEKDAY_FACTOR = (1.1, 1.1, 1.1, 1.1, 1.1, 0.75, 0.75)
#: Relative weight of each hour of the day for events.
EVENT_HOUR_WEIGHTS = (
    0.15,
    0.1,
    0.1,
    0.1,
    0.15,
    0.3,
    0.6,
    1.0,
    1.5,
    1.6,
    1.5,
    1.3,
    1.2,
    1.2,
    1.0,
    1.0,
    1.1,
    1.2,
    1.4,
    1.6,
    1.6,
    1.3,
    0.8,
    0.4,
)
EVENT_TYPES = ("login", "telemedicine_visit", "medication_refill", "health_tracking", "education_content", "message")
#: Event-type mix by condition (rows follow CONDITIONS, columns EVENT_TYPES).
EVENT_TYPE_MIX = {
    "diabetes": (0.32, 0.06, 0.10, 0.28, 0.12, 0.12),
    "hypertension": (0.34, 0.06, 0.12, 0.24, 0.12, 0.12),
    "copd": (0.34, 0.09, 0.10, 0.18, 0.14, 0.15),
    "heart_failure": (0.32, 0.10, 0.11, 0.20, 0.12, 0.15),
    "depression": (0.36, 0.11, 0.05, 0.08, 0.18, 0.22),
}
#: Billable event types: revenue = round(lognormal(log(median), sigma), 2); others 0.
EVENT_REVENUE = {"telemedicine_visit": (75.0, 0.35), "medication_refill": (12.0, 0.5)}

# --------------------------------------------------------------------------- journeys
STAGES = ("screening", "diagnosis", "treatment", "follow_up")
#: Probability of entering the first stage; then of entering stage i+1 after completing i.
STAGE_ENTER = (0.70, 0.90, 0.85, 0.80)
#: Probability of completing each stage (before condition/location multipliers).
STAGE_COMPLETE = (0.90, 0.85, 0.75, 0.70)
#: Median days spent in each stage (lognormal, sigma 0.5) and mean gap before entering it.
STAGE_MEDIAN_DAYS = (4.0, 10.0, 45.0, 30.0)
STAGE_GAP_DAYS = (6.0, 5.0, 7.0, 10.0)
STAGE_COMPLETE_CONDITION_MULT = {
    "diabetes": 1.0,
    "hypertension": 1.0,
    "copd": 0.95,
    "heart_failure": 0.97,
    "depression": 0.85,
}
STAGE_COMPLETE_LOCATION_MULT = {"urban": 1.0, "suburban": 0.97, "rural": 0.90}

# --------------------------------------------------------------------------- outreach
CHANNELS = ("phone", "sms", "email")
CHANNEL_SHARES = (0.5, 0.3, 0.2)
PROGRAMS = ("care_management", "medication_adherence", "wellness")
#: Program mix by condition (rows follow CONDITIONS).
PROGRAM_MIX = {
    "diabetes": (0.25, 0.55, 0.20),
    "hypertension": (0.20, 0.60, 0.20),
    "copd": (0.60, 0.25, 0.15),
    "heart_failure": (0.70, 0.20, 0.10),
    "depression": (0.50, 0.15, 0.35),
}
#: Calls per month of enrollment (times the intensity below); ~3 calls per patient overall.
CALL_RATE_PER_MONTH = 0.2
#: Relative call intensity per month of enrollment, by condition.
CALL_INTENSITY = {"diabetes": 1.1, "hypertension": 1.0, "copd": 1.3, "heart_failure": 1.5, "depression": 0.9}
OUTCOMES = ("engaged", "declined", "no_answer", "voicemail", "wrong_number")
#: How a non-engaged call splits, by channel (columns: declined, no_answer, voicemail, wrong_number).
NON_ENGAGED_SPLIT = {
    "phone": (0.25, 0.35, 0.30, 0.10),
    "sms": (0.30, 0.62, 0.0, 0.08),
    "email": (0.22, 0.73, 0.0, 0.05),
}
#: Share of calls moved off weekends (to Friday/Monday) and share placed outside 8-20h.
CALL_WEEKEND_KEEP = 0.2
CALL_HOUR_WEIGHTS = (  # 0..23; 8-20 carry almost everything
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0.15,
    1.0,
    1.1,
    1.2,
    1.2,
    0.9,
    1.0,
    1.0,
    1.0,
    1.0,
    1.1,
    1.1,
    1.0,
    0.6,
    0.1,
    0,
    0,
)
#: logit P(engaged) = intercept + sum of the terms below.
ENGAGE_INTERCEPT = -1.82  # calibrated to ~30% engaged
ENGAGE_WEIGHTS: dict[str, Any] = {
    "channel": {"phone": 0.5, "sms": 0.0, "email": -0.6},
    # by hour of day; hours not listed get "other"
    "hour": {
        "8": -0.1,
        "9": 0.0,
        "10": 0.35,
        "11": 0.35,
        "12": 0.1,
        "13": 0.0,
        "14": -0.1,
        "15": -0.1,
        "16": 0.0,
        "17": 0.3,
        "18": 0.3,
        "19": 0.1,
        "other": -0.5,
    },
    "weekday": {"0": 0.05, "1": 0.1, "2": 0.1, "3": 0.05, "4": -0.1, "5": -0.3, "6": -0.4},
    "primary_condition": {
        "diabetes": 0.0,
        "hypertension": -0.05,
        "copd": 0.15,
        "heart_failure": 0.25,
        "depression": -0.25,
    },
    "program": {"care_management": 0.1, "medication_adherence": 0.0, "wellness": -0.15},
    "age_per_decade": 0.10,  # times (age_at_call - 55) / 10
    "recent_events_log1p": 0.45,  # times log1p(events of the patient in the 30 days before the call)
    "prior_engaged": 0.5,  # times min(prior engaged calls, 3)
}
ENGAGE_PRIOR_CAP = 3
ENGAGE_RECENT_DAYS = 30

# --------------------------------------------------------------------------- providers and claims
SPECIALTIES = (
    "family_medicine",
    "internal_medicine",
    "cardiology",
    "endocrinology",
    "pulmonology",
    "psychiatry",
    "nephrology",
    "behavioral_health",
)
SPECIALTY_SHARES = (0.28, 0.22, 0.11, 0.08, 0.07, 0.09, 0.05, 0.10)
#: Paid-amount multiplier per specialty (mean per claim stays ~ PAID_MEAN).
SPECIALTY_PAID_MULT = (0.8, 0.9, 1.5, 1.1, 1.2, 1.0, 1.3, 0.8)
PAID_MEAN = 220.0
PAID_SIGMA = 0.8
#: Provider claim volume weight: lognormal sigma (heavy tail: top 20% carry ~80% of revenue).
PROVIDER_VOLUME_SIGMA = 1.6
#: Share of providers that join after the window start, and that stop billing before the end.
PROVIDER_LATE_JOIN = 0.15
PROVIDER_STOP = 0.05
#: Share of claims lasting several days, and their mean extra length.
CLAIM_MULTI_DAY = 0.25
CLAIM_EXTRA_DAYS_MEAN = 2.5
DEDUCTIBLE_SHARE = 0.35
#: Claims per patient weight by condition.
CLAIM_CONDITION_WEIGHT = {"diabetes": 1.2, "hypertension": 1.0, "copd": 1.5, "heart_failure": 2.0, "depression": 1.0}
CONDITION_ICD10 = {
    "diabetes": ("E11.9", "E11.65", "E11.22", "Z79.4"),
    "hypertension": ("I10", "I11.9", "I12.9"),
    "copd": ("J44.1", "J44.9", "J44.0"),
    "heart_failure": ("I50.9", "I50.22", "I50.32"),
    "depression": ("F32.A", "F32.9", "F33.1", "F41.1"),
}
GENERIC_ICD10 = ("M54.50", "Z00.00", "J06.9", "R51.9", "E78.5", "K21.9", "R07.9", "Z23")
CONDITION_CODE_SHARE = 0.65
PROCEDURE_CODES = ("99213", "99214", "99212", "99215", "99441", "93000", "80053", "83036", "90834", "94010")
PROCEDURE_SHARES = (0.30, 0.22, 0.10, 0.06, 0.06, 0.06, 0.06, 0.05, 0.05, 0.04)
PROCEDURE_NULL_SHARE = 0.1
STATE_CITIES = (
    ("CA", "Los Angeles"),
    ("CA", "San Diego"),
    ("TX", "Houston"),
    ("TX", "Dallas"),
    ("FL", "Miami"),
    ("FL", "Orlando"),
    ("NY", "New York"),
    ("NY", "Buffalo"),
    ("PA", "Philadelphia"),
    ("IL", "Chicago"),
    ("OH", "Columbus"),
    ("GA", "Atlanta"),
    ("NC", "Charlotte"),
    ("MI", "Detroit"),
    ("NJ", "Newark"),
    ("VA", "Richmond"),
    ("WA", "Seattle"),
    ("AZ", "Phoenix"),
    ("MA", "Boston"),
    ("TN", "Nashville"),
    ("CO", "Denver"),
    ("MN", "Minneapolis"),
    ("MO", "St. Louis"),
    ("OR", "Portland"),
    ("ME", "Bangor"),
)

# --------------------------------------------------------------------------- calibration targets
CALIBRATION_TARGETS = {
    "overall_churn_at_end": 0.74,
    "high_churn_condition": HIGH_CHURN_CONDITION,
    "high_churn_condition_churn": 0.83,
    "rural_minus_urban_points": 2.5,
    "word_of_mouth_minus_doctor_points": 5.0,
    "events_per_patient": EVENTS_PER_PATIENT_TARGET,
    "engaged_call_rate": 0.30,
    "provider_top20_revenue_share": 0.80,
    "mean_paid_per_claim": PAID_MEAN,
    "provider_segments_study": {"champions": 0.22, "rising_stars": 0.17, "standard": 0.60, "dormant_giants": 0.01},
}


def as_dict() -> dict[str, Any]:
    """Every public upper-case constant of this module, JSON-ready (tuples become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    return {name.lower(): plain(value) for name, value in globals().items() if name.isupper()}


# Appended days (generate.append): per day, new patients as a share of the history's
# patients (about 1.4 a day at scale 0.01) and new providers as a share of its providers.
APPEND_NEW_PATIENT_SHARE = 0.0014
APPEND_NEW_PROVIDER_SHARE = 0.0004
