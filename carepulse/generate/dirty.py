"""Injecting bad rows with a known reason, to test the warehouse's quarantine.

Why extra rows and not edits: clean rows stay exactly what a dirty_rate = 0 run writes, so
counts reconcile (rows written = clean rows + injected rows) and every injected row is
listed once in ground_truth/dirty_rows.parquet with the one rule it breaks. Each bad row is
a copy of a clean template row with ONE change; rows that are not meant to collide with a
key get a fresh key from a reserved range (never referenced by any other row), so no bad
row breaks a second rule by accident and no bad patient or provider is ever referenced.

Reserved ranges: bad patients P8xxxxxx, orphan patient ids P9xxxxxx, orphan provider ids are
valid NPIs with base 2xxxxxxxx, invalid NPIs use base 25xxxxxxx; fresh event, call and claim
ids start at 9 followed by zeros in their id width.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .calendar import Window
from .claims import CLAIM_ID_PREFIX, CLAIM_ID_WIDTH
from .events import EVENT_ID_PREFIX, EVENT_ID_WIDTH
from .ids import fixed_ids
from .outreach import CALL_ID_PREFIX, CALL_ID_WIDTH
from .providers import RESERVED_BASE_LO, npi_check_digits, npis_from_bases

RULES: dict[str, tuple[str, ...]] = {
    "patients": (
        "missing_key",
        "unparseable_value",
        "unknown_value",
        "impossible_date",
        "after_as_of",
        "duplicate_key",
    ),
    "engagement_events": (
        "missing_key",
        "unparseable_value",
        "unknown_value",
        "impossible_date",
        "after_as_of",
        "negative_amount",
        "duplicate_key",
        "orphan_reference",
    ),
    "care_journey_stages": (
        "unparseable_value",
        "unknown_value",
        "impossible_date",
        "end_before_start",
        "after_as_of",
        "duplicate_key",
        "orphan_reference",
    ),
    "outreach_calls": (
        "missing_key",
        "unparseable_value",
        "unknown_value",
        "impossible_date",
        "after_as_of",
        "duplicate_key",
        "orphan_reference",
    ),
    "providers": ("missing_key", "duplicate_key", "invalid_npi"),
    "claims": (
        "missing_key",
        "unparseable_value",
        "impossible_date",
        "end_before_start",
        "after_as_of",
        "negative_amount",
        "duplicate_key",
        "orphan_reference",
        "malformed_code",
    ),
}
KEY_COLUMN = {
    "patients": "patient_id",
    "engagement_events": "event_id",
    "outreach_calls": "call_id",
    "providers": "provider_id",
    "claims": "claim_id",
}
#: Enumerations, the value that is never allowed, and where case/space variants are sprinkled.
ENUM_COLUMNS = {
    "patients": ("sex", "location_type", "referral_source"),
    "engagement_events": ("event_type",),
    "care_journey_stages": ("stage",),
    "outreach_calls": ("channel", "outcome"),
}
UNKNOWN_VALUES = {
    "sex": "X",
    "location_type": "lunar",
    "referral_source": "billboard",
    "event_type": "teleport",
    "stage": "surgery",
    "channel": "pigeon",
    "outcome": "maybe",
}
#: Column that gets the unparseable value, rotating, and its kind.
PARSE_COLUMNS = {
    "patients": (("birth_date", "date"), ("enrolled_at", "timestamp")),
    "engagement_events": (("event_at", "timestamp"), ("revenue_usd", "amount")),
    "care_journey_stages": (("entered_at", "timestamp"),),
    "outreach_calls": (("called_at", "timestamp"),),
    "claims": (("claim_start_date", "date"), ("paid_amount", "amount")),
}
BAD_VALUES = {
    "date": ("not-a-date", "2025-13-45", "2024-02-30"),
    "timestamp": ("not-a-date", "2025-13-45 10:00:00", "2024-02-30 25:61:00"),
    "amount": ("abc", "twelve", "1O.50"),
}
MALFORMED_CODES = ("123", "ZZ", "E1", "E11-9", "11E.9")
TIMESTAMP_COLUMN = {"engagement_events": "event_at", "outreach_calls": "called_at"}
#: Share of clean rows whose enumerations get harmless case/whitespace variants.
SPRINKLE_SHARE = 0.02
FRESH_ID = {
    "engagement_events": (EVENT_ID_PREFIX, EVENT_ID_WIDTH),
    "outreach_calls": (CALL_ID_PREFIX, CALL_ID_WIDTH),
    "claims": (CLAIM_ID_PREFIX, CLAIM_ID_WIDTH),
}
BAD_PATIENT_BASE = 8_000_000
ORPHAN_PATIENT_BASE = 9_000_000
ORPHAN_PROVIDER_BASE = RESERVED_BASE_LO
INVALID_NPI_BASE = RESERVED_BASE_LO + 50_000_000
DIRTY_ROWS_SCHEMA = pa.schema([("table_name", pa.string()), ("record_key", pa.string()), ("rule", pa.string())])


def sprinkle_case(table: pa.Table, table_name: str, rng: np.random.Generator) -> pa.Table:
    """Give ~2% of clean enumeration values a harmless variant: 'PHONE', 'Urban ', ' rural'."""
    for column in ENUM_COLUMNS.get(table_name, ()):
        col = table.column(column).combine_chunks()
        n = len(col)
        pick = rng.random(n) < SPRINKLE_SHARE
        kind = rng.integers(0, 3, size=n)
        upper = pc.utf8_upper(col)
        title_space = pc.binary_join_element_wise(pc.utf8_capitalize(col), pa.scalar(""), " ")
        space_lower = pc.binary_join_element_wise(pa.scalar(""), col, " ")
        varied = pc.if_else(pa.array(kind == 0), upper, pc.if_else(pa.array(kind == 1), title_space, space_lower))
        table = table.set_column(table.schema.get_field_index(column), column, pc.if_else(pa.array(pick), varied, col))
    return table


def _days(text: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD...' strings -> datetime64[D]."""
    head = pc.utf8_slice_codeunits(pa.array(list(text), type=pa.string()), 0, 10)
    return pc.cast(head, pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")


def _clock(text: np.ndarray) -> np.ndarray:
    """The ' HH:MM:SS' tail of timestamp strings ('' for dates)."""
    tail = pc.utf8_slice_codeunits(pa.array(list(text), type=pa.string()), 10)
    return tail.to_numpy(zero_copy_only=False).astype(object)


def _fmt_days(days: np.ndarray, clock: np.ndarray | None = None) -> np.ndarray:
    """datetime64[D] -> 'YYYY-MM-DD' (+ the clock tail when given)."""
    out = pa.array(np.asarray(days, dtype="datetime64[D]"), type=pa.date32()).cast(pa.string())
    out = out.to_numpy(zero_copy_only=False).astype(object)
    return out if clock is None else out + clock


def _obj(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(object)


def _shift_to_year_range(rng: np.random.Generator, k: int, first_year: int, years: int) -> np.ndarray:
    start = np.datetime64(f"{first_year}-01-01")
    return start + rng.integers(0, 365 * years, size=k).astype("timedelta64[D]")


@dataclass
class DirtyInjector:
    """Adds bad rows to each table batch and records them; one instance per run."""

    rate: float
    window: Window
    injected: dict[str, int] = field(default_factory=dict)
    records: list[pa.Table] = field(default_factory=list)
    _next: dict[str, int] = field(default_factory=dict)
    journey_pool: tuple[np.ndarray, np.ndarray] | None = None  # (patient ids, stage) pairs free to use

    def _take(self, counter: str, k: int, start: int) -> np.ndarray:
        first = self._next.get(counter, start)
        self._next[counter] = first + k
        return np.arange(first, first + k, dtype=np.int64)

    def how_many(self, table_name: str, n_clean: int, final: bool) -> int:
        """round(rate x clean rows); the last batch tops up so every rule appears at least once."""
        k = int(round(self.rate * n_clean))
        if final:
            k = max(k, len(RULES[table_name]) - self.injected.get(table_name, 0))
        return k if n_clean > 0 else 0

    def inject(self, table_name: str, clean: pa.Table, rng: np.random.Generator, final: bool = True) -> pa.Table:
        """clean (text mode) + its bad rows, the bad rows appended at the end."""
        k = self.how_many(table_name, clean.num_rows, final)
        if k == 0:
            return clean
        rules = RULES[table_name]
        start = self.injected.get(table_name, 0)
        rule_idx = (start + np.arange(k)) % len(rules)
        self.injected[table_name] = start + k
        template = rng.choice(clean.num_rows, size=k, replace=k > clean.num_rows)
        rows = {
            name: clean.column(name).take(pa.array(template)).to_numpy(zero_copy_only=False).astype(object)
            for name in clean.column_names
        }
        keys = np.empty(k, dtype=object)
        for r, rule in enumerate(rules):
            sel = np.flatnonzero(rule_idx == r)
            if sel.size:
                getattr(self, f"_{rule}")(table_name, rows, sel, rng)
        keys[:] = self._record_keys(table_name, rows)
        missing = rule_idx == rules.index("missing_key") if "missing_key" in rules else np.zeros(k, bool)
        keys[missing] = None
        self.records.append(
            pa.table(
                {
                    "table_name": pa.array([table_name] * k),
                    "record_key": pa.array(list(keys), type=pa.string()),
                    "rule": pa.array(np.asarray(rules, dtype=object)[rule_idx], type=pa.string()),
                },
                schema=DIRTY_ROWS_SCHEMA,
            )
        )
        bad = pa.table(
            {name: pa.array(list(rows[name]), type=clean.schema.field(name).type) for name in clean.column_names}
        )
        return pa.concat_tables([clean, bad])

    def dirty_rows(self) -> pa.Table:
        if not self.records:
            return DIRTY_ROWS_SCHEMA.empty_table()
        return pa.concat_tables(self.records)

    # ------------------------------------------------------------------ keys
    def _record_keys(self, table_name: str, rows: dict[str, np.ndarray]) -> np.ndarray:
        if table_name == "care_journey_stages":
            return rows["patient_id"].astype(str).astype(object) + "|" + rows["stage"].astype(str).astype(object)
        return rows[KEY_COLUMN[table_name]]

    def _fresh_key(self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray) -> None:
        """Give the selected rows a key no clean or other bad row has."""
        k = sel.size
        if table_name in FRESH_ID:
            prefix, width = FRESH_ID[table_name]
            numbers = self._take(table_name, k, 9 * 10 ** (width - 1))
            rows[KEY_COLUMN[table_name]][sel] = _obj(fixed_ids(prefix, numbers, width))
        elif table_name == "patients":
            numbers = self._take("bad_patient", k, BAD_PATIENT_BASE)
            rows["patient_id"][sel] = _obj(fixed_ids("P", numbers, 7))
        elif table_name == "care_journey_stages":
            if self.journey_pool is None:
                raise RuntimeError("journey_pool must be set before injecting journey rows")
            pos = self._take("journey_pool", k, 0)
            patients, stages = self.journey_pool
            if pos[-1] >= len(patients):
                raise RuntimeError("dirty_rate too high for the journey table")
            rows["patient_id"][sel] = patients[pos]
            rows["stage"][sel] = stages[pos]

    # ------------------------------------------------------------------ rules
    def _missing_key(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        values = np.where(np.arange(sel.size) % 2 == 0, None, "")
        rows[KEY_COLUMN[table_name]][sel] = values

    def _duplicate_key(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        """An exact copy of a clean row: nothing to change."""

    def _unparseable_value(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        options = PARSE_COLUMNS[table_name]
        for j, (column, kind) in enumerate(options):
            part = sel[j :: len(options)]
            values = BAD_VALUES[kind]
            rows[column][part] = np.asarray(values, dtype=object)[np.arange(part.size) % len(values)]

    def _unknown_value(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        columns = ENUM_COLUMNS[table_name]
        for j, column in enumerate(columns):
            rows[column][sel[j :: len(columns)]] = UNKNOWN_VALUES[column]

    def _impossible_date(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        k = sel.size
        old = _shift_to_year_range(rng, k, 1995, 4)
        if table_name in TIMESTAMP_COLUMN:
            column = TIMESTAMP_COLUMN[table_name]
            rows[column][sel] = _fmt_days(old, _clock(rows[column][sel]))
        elif table_name == "care_journey_stages":
            rows["entered_at"][sel] = _fmt_days(old, _clock(rows["entered_at"][sel]))
            rows["completed_at"][sel] = None
        elif table_name == "claims":
            gap = _days(rows["claim_end_date"][sel]) - _days(rows["claim_start_date"][sel])
            rows["claim_start_date"][sel] = _fmt_days(old)
            rows["claim_end_date"][sel] = _fmt_days(old + gap)
        elif table_name == "patients":
            # half born before 1900, half born after their enrollment (but not after end_date)
            enrolled = _days(rows["enrolled_at"][sel])
            room = (np.datetime64(self.window.end_date, "D") - enrolled).astype(np.int64)
            after = np.minimum(1 + rng.integers(0, 30, size=k), room)
            ancient = _shift_to_year_range(rng, k, 1850, 45)
            use_after = (np.arange(k) % 2 == 1) & (after >= 1)
            rows["birth_date"][sel] = np.where(
                use_after, _fmt_days(enrolled + after.astype("timedelta64[D]")), _fmt_days(ancient)
            )

    def _after_as_of(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        future = _shift_to_year_range(rng, sel.size, 2099, 1)
        if table_name in TIMESTAMP_COLUMN:
            column = TIMESTAMP_COLUMN[table_name]
            rows[column][sel] = _fmt_days(future, _clock(rows[column][sel]))
        elif table_name == "care_journey_stages":
            rows["entered_at"][sel] = _fmt_days(future, _clock(rows["entered_at"][sel]))
            rows["completed_at"][sel] = None
        elif table_name == "claims":
            gap = _days(rows["claim_end_date"][sel]) - _days(rows["claim_start_date"][sel])
            rows["claim_start_date"][sel] = _fmt_days(future)
            rows["claim_end_date"][sel] = _fmt_days(future + gap)
        elif table_name == "patients":
            rows["enrolled_at"][sel] = _fmt_days(future, _clock(rows["enrolled_at"][sel]))

    def _end_before_start(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        k = sel.size
        if table_name == "claims":
            start = _days(rows["claim_start_date"][sel])
            rows["claim_end_date"][sel] = _fmt_days(start - rng.integers(1, 6, size=k).astype("timedelta64[D]"))
        else:
            entered = pc.strptime(pa.array(list(rows["entered_at"][sel]), type=pa.string()), "%Y-%m-%d %H:%M:%S", "s")
            done = entered.to_numpy(zero_copy_only=False) - rng.integers(3600, 10 * 86400, size=k).astype(
                "timedelta64[s]"
            )
            rows["completed_at"][sel] = _obj(pa.array(done, type=pa.timestamp("s")).cast(pa.string()))

    def _negative_amount(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        values = _obj(pa.array(-np.round(rng.uniform(1, 150, size=sel.size), 2)).cast(pa.string()))
        if table_name == "engagement_events":
            rows["revenue_usd"][sel] = values
        else:
            paid = np.arange(sel.size) % 2 == 0
            rows["paid_amount"][sel[paid]] = values[paid]
            rows["deductible_amount"][sel[~paid]] = values[~paid]

    def _orphan_reference(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        k = sel.size
        if table_name == "care_journey_stages":
            numbers = self._take("orphan_patient", k, ORPHAN_PATIENT_BASE)
            rows["patient_id"][sel] = _obj(fixed_ids("P", numbers, 7))
            return
        self._fresh_key(table_name, rows, sel)
        on_provider = (np.arange(k) % 2 == 1) if table_name == "claims" else np.zeros(k, bool)
        pat = sel[~on_provider]
        numbers = self._take("orphan_patient", pat.size, ORPHAN_PATIENT_BASE)
        rows["patient_id"][pat] = _obj(fixed_ids("P", numbers, 7))
        prov = sel[on_provider]
        if prov.size:
            bases = self._take("orphan_provider", prov.size, ORPHAN_PROVIDER_BASE)
            rows["provider_id"][prov] = _obj(npis_from_bases(bases))

    def _invalid_npi(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        k = sel.size
        bases = self._take("invalid_npi", k, INVALID_NPI_BASE)
        wrong = (npi_check_digits(bases) + rng.integers(1, 10, size=k)) % 10
        ten = _obj(npis_from_bases(bases, wrong))
        nine = _obj(fixed_ids("", bases, 9))
        rows["provider_id"][sel] = np.where(np.arange(k) % 2 == 0, ten, nine)

    def _malformed_code(
        self, table_name: str, rows: dict[str, np.ndarray], sel: np.ndarray, rng: np.random.Generator
    ) -> None:
        self._fresh_key(table_name, rows, sel)
        rows["diagnosis_code"][sel] = np.asarray(MALFORMED_CODES, dtype=object)[
            np.arange(sel.size) % len(MALFORMED_CODES)
        ]


def journey_pool(
    journeys: pa.Table, patient_ids: pa.Array, rng: np.random.Generator, stages: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(patient_id, stage) pairs absent from the clean journeys, one per patient, shuffled.

    Bad journey rows that must not collide with a clean key use these pairs (or the pair's
    patient with the unknown stage), so their only fault is the intended one.
    """
    ids = _obj(patient_ids)
    present = np.zeros((len(ids), len(stages)), dtype=bool)
    numbers = pc.cast(pc.utf8_slice_codeunits(journeys.column("patient_id"), 1), pa.int64()).to_numpy() - 1
    stage_idx = pc.index_in(journeys.column("stage"), pa.array(list(stages))).to_numpy(zero_copy_only=False)
    present[numbers, stage_idx] = True
    free = ~present
    has_free = free.any(axis=1)
    first_free = free.argmax(axis=1)
    candidates = np.flatnonzero(has_free)
    candidates = candidates[rng.permutation(candidates.size)]
    return ids[candidates], np.asarray(stages, dtype=object)[first_free[candidates]]
