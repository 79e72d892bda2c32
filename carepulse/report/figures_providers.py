"""Provider figure: segment shares of providers and revenue, and each segment's ROI."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import style
from .data import ReportData


def provider_segments(data: ReportData) -> tuple[Figure, str]:
    seg = data.segments.copy()
    seg["revenue_share"] = seg["revenue_share"].fillna(0.0)
    seg["provider_share"] = seg["provider_share"].fillna(0.0)
    by_revenue = seg.sort_values(["revenue_share", "segment"], ascending=[True, False]).reset_index(drop=True)
    by_roi = seg.assign(_roi=seg["roi"].fillna(-1.0)).sort_values(["_roi", "segment"], ascending=[True, False])
    by_roi = by_roi.reset_index(drop=True)
    rows = max(3, len(seg))
    fig = style.new_figure(11, 1.8 + 0.55 * rows)
    left, right = fig.subplots(1, 2)

    y = np.arange(len(by_revenue))
    h = 0.38
    b1 = left.barh(y + h / 2, by_revenue["revenue_share"], height=h, color=style.ORANGE, label="share of revenue")
    b2 = left.barh(y - h / 2, by_revenue["provider_share"], height=h, color=style.MUTED, label="share of providers")
    left.bar_label(b1, labels=[style.fmt_pct(v) for v in by_revenue["revenue_share"]], padding=3, fontsize=8)
    left.bar_label(b2, labels=[style.fmt_pct(v) for v in by_revenue["provider_share"]], padding=3, fontsize=8)
    left.set_yticks(
        y,
        [
            f"{style.pretty(s, 18)}\n({style.fmt_count(n)} providers)"
            for s, n in zip(by_revenue["segment"], by_revenue["providers"], strict=False)
        ],
    )
    left.set_xlim(
        0, style.nice_pct_limit(max(by_revenue["revenue_share"].max(), by_revenue["provider_share"].max()) + 0.1)
    )
    left.xaxis.set_major_formatter(style.PCT_AXIS)
    left.set_xlabel("% of all segmented providers / of their revenue")
    left.set_title("Revenue share vs provider share", loc="left")
    left.grid(axis="y", visible=False)
    left.legend(loc="lower right")

    y = np.arange(len(by_roi))
    roi = by_roi["roi"].fillna(0.0)
    bars = right.barh(y, roi, color=style.PRIMARY, height=0.6)
    labels = []
    for row in by_roi.itertuples():
        if pd.isna(row.roi):
            labels.append("no providers: no investment")
        else:
            labels.append(
                f"{style.fmt_ratio(row.roi)} : 1  ({style.fmt_usd(row.total_revenue)} / {style.fmt_usd(row.investment)})"
            )
    right.bar_label(bars, labels=labels, padding=3, fontsize=8)
    right.set_xlim(0, max(1.0, float(roi.max())) * 1.9)
    right.set_yticks(y, [style.pretty(s, 18) for s in by_roi["segment"]])
    right.set_xlabel("ROI: revenue (USD) per USD of one quarter's planned visits")
    right.set_title("Return on the visit plan", loc="left")
    right.grid(axis="y", visible=False)

    total = float(data.portfolio.get("total_revenue") or 0.0)
    fig.suptitle(f"Provider segments — {style.fmt_usd(total)} revenue, as of {data.as_of_date:%Y-%m-%d}")
    caption = (
        "marts.segment_roi: each segment's share of the segmented providers and of their paid-claim revenue up to "
        "the as-of date, and ROI = total revenue / investment, where investment is one quarter of the segment's "
        "visit plan (providers × visits per quarter × cost_per_visit) — the study's arithmetic, not an annualised "
        "return. Segments are those of seed provider_segment_rules."
    )
    return fig, caption
