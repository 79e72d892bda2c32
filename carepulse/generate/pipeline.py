"""generate(): build every raw table and the ground truth for one (scale, seed, end_date).

Why this order: patients and providers are drawn first (everything references them);
events and outreach calls are then streamed block by block of BLOCK_SIZE patients, each
block with its own random streams, so memory stays flat at scale 10 and the output does not
depend on chunking; journeys and claims follow; patients and providers are written last,
when the dirty-row injector has handed out its reserved ids.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import params
from .calendar import Window
from .claims import claims_table
from .dirty import DirtyInjector, journey_pool, sprinkle_case
from .events import events_table, generate_event_block
from .journeys import journeys_table
from .outreach import call_truth_table, calls_table, generate_call_block
from .patients import patients_table, sample_patients
from .providers import providers_table, sample_providers
from .seeding import rng_for
from .truth import TRUTH_DIR_NAME, factor_weights, patient_truth_table, provider_truth_table
from .writer import RAW_SCHEMAS, TableSink, text_schema, to_text, write_parquet

TABLE_ORDER = ("patients", "engagement_events", "care_journey_stages", "outreach_calls", "providers", "claims")


@dataclass
class GenerateResult:
    """What a generate() run wrote."""

    out: Path
    truth_dir: Path
    row_counts: dict[str, int]
    seconds: float
    dirty_counts: dict[str, int] = field(default_factory=dict)
    realised: dict[str, object] = field(default_factory=dict)


def _count(scale: float, per_scale: int) -> int:
    return max(1, int(round(per_scale * scale)))


class _Output:
    """Writes each table in the run's format, through the dirty injector when enabled."""

    def __init__(self, out: Path, fmt: str, injector: DirtyInjector | None, seed: int) -> None:
        self.out, self.fmt, self.injector, self.seed = out, fmt, injector, seed
        self.sinks: dict[str, TableSink] = {}

    def sink(self, name: str) -> TableSink:
        if name not in self.sinks:
            schema = RAW_SCHEMAS[name]
            self.sinks[name] = TableSink(self.out, name, self.fmt, text_schema(schema) if self.injector else schema)
        return self.sinks[name]

    def write(self, name: str, table: pa.Table, block: int = 0, final: bool = True) -> None:
        sink = self.sink(name)
        if self.injector is not None:
            rng = rng_for(self.seed, f"dirty:{name}", block)
            table = sprinkle_case(to_text(table), name, rng)
            table = self.injector.inject(name, table, rng, final=final)
        sink.write(table)

    def close(self) -> dict[str, int]:
        return {name: self.sinks[name].close() for name in TABLE_ORDER if name in self.sinks}

    def abort(self) -> None:
        for sink in self.sinks.values():
            sink.abort()


def _churn_rates(is_churned: np.ndarray, codes: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
    return {name: round(float(is_churned[codes == i].mean()), 4) for i, name in enumerate(names) if (codes == i).any()}


def _provider_stats(claims: pa.Table, n_providers: int, end_date: date) -> dict[str, object]:
    """Top-20% revenue share, mean paid and the project's segment shares (typed claims)."""
    grouped = claims.group_by("provider_id").aggregate(
        [("paid_amount", "sum"), ("paid_amount", "count"), ("claim_start_date", "max")]
    )
    revenue = np.sort(grouped.column("paid_amount_sum").to_numpy())[::-1]
    revenue = np.concatenate([revenue, np.zeros(max(n_providers - revenue.size, 0))])
    top = max(1, int(round(0.2 * revenue.size)))
    count = grouped.column("paid_amount_count").to_numpy()
    rev = grouped.column("paid_amount_sum").to_numpy()
    last = grouped.column("claim_start_date_max").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    recency = (np.datetime64(end_date, "D") - last).astype(np.int64)
    champion = (count > 66) & (rev > 19_700) & (recency < 30)
    rising = ~champion & (count > 24) & (recency < 15)
    dormant = ~champion & ~rising & (rev > 19_700) & (recency > 50)
    total = max(n_providers, 1)
    return {
        "provider_top20_revenue_share": round(float(revenue[:top].sum() / max(revenue.sum(), 1e-9)), 4),
        "mean_paid_per_claim": round(float(pc.mean(claims.column("paid_amount")).as_py() or 0.0), 2),
        "provider_segments": {
            "champions": round(float(champion.sum() / total), 4),
            "rising_stars": round(float(rising.sum() / total), 4),
            "dormant_giants": round(float(dormant.sum() / total), 4),
            "standard": round(float(1 - (champion.sum() + rising.sum() + dormant.sum()) / total), 4),
            "dormant_giants_count": int(dormant.sum()),
        },
    }


def generate(
    scale: float = 0.05,
    seed: int = 42,
    out: Path | str = "data/raw",
    fmt: str = "parquet",
    dirty_rate: float = 0.0,
    end_date: date = date(2025, 12, 31),
) -> GenerateResult:
    """Generate the six raw tables into `out` and the ground truth into `out/../ground_truth`.

    scale 1 ~ 100k patients, 5k providers, 520k claims, 300k calls, 5M events over the two
    years ending at end_date. Same (scale, seed, end_date, dirty_rate) -> identical files.
    """
    started = time.perf_counter()
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError("scale must be a positive number")
    if not 0 <= dirty_rate < 0.5:
        raise ValueError("dirty_rate must be in [0, 0.5)")
    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be 'parquet' or 'csv'")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    truth_dir = out.resolve().parent / TRUTH_DIR_NAME
    truth_dir.mkdir(parents=True, exist_ok=True)
    window = Window(end_date)

    pf = sample_patients(_count(scale, params.PATIENTS_PER_SCALE), window, seed)
    pv = sample_providers(_count(scale, params.PROVIDERS_PER_SCALE), window, seed)
    patient_ids = pf.ids()
    injector = DirtyInjector(rate=dirty_rate, window=window) if dirty_rate > 0 else None
    output = _Output(out, fmt, injector, seed)
    call_truth_path = truth_dir / "call_truth.parquet"
    call_truth_tmp = truth_dir / ".call_truth.parquet.partial"
    call_truth_writer: pq.ParquetWriter | None = None
    try:
        last_event_s = np.full(pf.n, -1, dtype=np.int64)
        n_events = np.zeros(pf.n, dtype=np.int64)
        keepalive = np.zeros(pf.n, dtype=np.int64)
        engaged = calls_total = 0
        event_number = call_number = 1
        n_blocks = math.ceil(pf.n / params.BLOCK_SIZE)
        for block in range(n_blocks):
            lo, hi = block * params.BLOCK_SIZE, min((block + 1) * params.BLOCK_SIZE, pf.n)
            final = block == n_blocks - 1
            eb = generate_event_block(pf, window, seed, block, lo, hi)
            output.write("engagement_events", events_table(eb, event_number, patient_ids, window), block, final)
            event_number += eb.n
            last_event_s[lo:hi] = eb.last_event_s()
            n_events[lo:hi] = eb.counts()
            keepalive[lo:hi] = eb.forced
            cb = generate_call_block(pf, window, eb, seed, block)
            output.write("outreach_calls", calls_table(cb, call_number, patient_ids, window), block, final)
            truth = call_truth_table(cb, call_number)
            if call_truth_writer is None:
                call_truth_writer = pq.ParquetWriter(call_truth_tmp, truth.schema, compression="zstd")
            call_truth_writer.write_table(truth)
            call_number += cb.n
            engaged += int((cb.outcome == 0).sum())
            calls_total += cb.n
            del eb, cb
        if call_truth_writer is not None:
            call_truth_writer.close()
            call_truth_tmp.replace(call_truth_path)

        journeys = journeys_table(pf, window, seed)
        if injector is not None:
            injector.journey_pool = journey_pool(
                journeys, patient_ids, rng_for(seed, "dirty:journey_pool"), params.STAGES
            )
        output.write("care_journey_stages", journeys)
        del journeys
        n_claims = _count(scale, params.CLAIMS_PER_SCALE)
        claims = claims_table(n_claims, pf, pv, window, seed)
        provider_stats = _provider_stats(claims, pv.n, end_date)
        output.write("claims", claims)
        del claims
        output.write("patients", patients_table(pf, window))
        output.write("providers", providers_table(pv))
        row_counts = output.close()
    except BaseException:
        output.abort()
        if call_truth_writer is not None:
            call_truth_tmp.unlink(missing_ok=True)
        raise

    truth = patient_truth_table(pf, window, last_event_s, n_events, keepalive, patient_ids)
    write_parquet(truth_dir / "patient_truth.parquet", truth)
    write_parquet(truth_dir / "provider_truth.parquet", provider_truth_table(pv, window, n_claims))
    is_churned = truth.column("is_churned_at_end").to_numpy(zero_copy_only=False)
    realised: dict[str, object] = {
        "scale": scale,
        "seed": seed,
        "end_date": end_date.isoformat(),
        "dirty_rate": dirty_rate,
        "patients": pf.n,
        "overall_churn_at_end": round(float(is_churned.mean()), 4),
        "churn_by_condition": _churn_rates(is_churned, pf.condition, params.CONDITIONS),
        "churn_by_location": _churn_rates(is_churned, pf.location, params.LOCATIONS),
        "churn_by_referral": _churn_rates(is_churned, pf.referral, params.REFERRALS),
        "events_per_patient": round(float(n_events.mean()), 2),
        "keepalive_events": int(keepalive.sum()),
        "engaged_call_rate": round(engaged / max(calls_total, 1), 4),
        **provider_stats,
    }
    dirty_counts: dict[str, int] = {}
    dirty_rows = injector.dirty_rows() if injector is not None else None
    if dirty_rows is not None:
        names = dirty_rows.column("table_name").to_numpy(zero_copy_only=False)
        dirty_counts = {name: int((names == name).sum()) for name in TABLE_ORDER}
        write_parquet(truth_dir / "dirty_rows.parquet", dirty_rows)
    else:
        from .dirty import DIRTY_ROWS_SCHEMA

        write_parquet(truth_dir / "dirty_rows.parquet", DIRTY_ROWS_SCHEMA.empty_table())
    realised["row_counts"] = row_counts
    realised["dirty_counts"] = dirty_counts
    (truth_dir / "factor_weights.json").write_text(json.dumps(factor_weights(realised), indent=2) + "\n")
    return GenerateResult(
        out=out,
        truth_dir=truth_dir,
        row_counts=row_counts,
        seconds=round(time.perf_counter() - started, 3),
        dirty_counts=dirty_counts,
        realised=realised,
    )
