"""Claims: which provider billed which patient, when, for how much, for what diagnosis.

Why allocate by provider first: the provider segments (Champions, Rising Stars, Dormant
Giants) depend on each provider's claim count, revenue and last claim date, so each claim
picks a provider with probability proportional to volume x active days, then a date inside
that provider's billing window. Patients are picked with condition weights (heart failure
bills more), and the diagnosis code usually matches the patient's condition.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import params
from .calendar import Window
from .ids import fixed_ids
from .patients import PatientFrame
from .providers import ProviderFrame
from .seeding import rng_for

CLAIM_ID_PREFIX = "CL"
CLAIM_ID_WIDTH = 9


def claims_table(n: int, pf: PatientFrame, pv: ProviderFrame, window: Window, seed: int) -> pa.Table:
    """The raw `claims` table, typed, ordered by start date."""
    rng = rng_for(seed, "claims")
    active = (pv.stop_day - pv.start_day + 1).astype(float)
    w = pv.volume * active
    provider = rng.choice(pv.n, size=n, p=w / w.sum())
    start = pv.start_day[provider] + np.floor(rng.random(n) * active[provider]).astype(np.int64)
    extra = np.where(rng.random(n) < params.CLAIM_MULTI_DAY, 1 + rng.poisson(params.CLAIM_EXTRA_DAYS_MEAN - 1, n), 0)
    end = np.minimum(start + extra, window.end_day)

    cw = np.asarray([params.CLAIM_CONDITION_WEIGHT[c] for c in params.CONDITIONS])[pf.condition]
    patient = rng.choice(pf.n, size=n, p=cw / cw.sum())

    spec_mult = np.asarray(params.SPECIALTY_PAID_MULT)
    shares = np.asarray(params.SPECIALTY_SHARES)
    spec_mult = spec_mult / (spec_mult * shares).sum() * shares.sum()
    sigma = params.PAID_SIGMA
    paid = np.round(
        params.PAID_MEAN * spec_mult[pv.specialty[provider]] * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2), 2
    )
    has_deductible = rng.random(n) < params.DEDUCTIBLE_SHARE
    deductible = np.where(has_deductible, np.round(paid * rng.uniform(0.1, 0.6, n), 2), 0.0)

    condition = pf.condition[patient]
    use_condition = rng.random(n) < params.CONDITION_CODE_SHARE
    code_lists = [params.CONDITION_ICD10[c] for c in params.CONDITIONS]
    all_codes = tuple(code for codes in code_lists for code in codes) + params.GENERIC_ICD10
    offsets = np.cumsum([0] + [len(c) for c in code_lists])
    sizes = np.diff(offsets)
    cond_code = offsets[condition] + np.floor(rng.random(n) * sizes[condition]).astype(np.int64)
    generic_code = offsets[-1] + rng.integers(0, len(params.GENERIC_ICD10), size=n)
    diagnosis = np.where(use_condition, cond_code, generic_code)
    p = np.asarray(params.PROCEDURE_SHARES)
    procedure = rng.choice(len(p), size=n, p=p / p.sum())
    procedure_null = rng.random(n) < params.PROCEDURE_NULL_SHARE

    order = np.lexsort((provider, start))
    provider, start, end, patient, paid, deductible, diagnosis, procedure, procedure_null = (
        a[order] for a in (provider, start, end, patient, paid, deductible, diagnosis, procedure, procedure_null)
    )
    procedure_col = pa.array(list(params.PROCEDURE_CODES)).take(pa.array(procedure))
    procedure_col = pc.if_else(pa.array(procedure_null), pa.scalar(None, pa.string()), procedure_col)
    return pa.table(
        {
            "claim_id": fixed_ids(CLAIM_ID_PREFIX, np.arange(1, n + 1, dtype=np.int64), CLAIM_ID_WIDTH),
            "patient_id": pf.ids().take(pa.array(patient)),
            "provider_id": pv.ids().take(pa.array(provider)),
            "claim_start_date": pa.array(window.to_date(start), type=pa.date32()),
            "claim_end_date": pa.array(window.to_date(end), type=pa.date32()),
            "paid_amount": pa.array(paid, type=pa.float64()),
            "deductible_amount": pa.array(deductible, type=pa.float64()),
            "diagnosis_code": pa.array(list(all_codes)).take(pa.array(diagnosis)),
            "procedure_code": procedure_col,
        }
    )
