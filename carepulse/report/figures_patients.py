"""Patient figures: churn drivers, RFM segments, cohort retention, care journey funnel."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import style
from .data import CHURN_DRIVER_DIMENSIONS, ReportData

#: Most groups shown per churn driver panel (largest groups first); the rest are listed as omitted.
MAX_GROUPS = 12
#: Most cohorts (latest first) and months since enrolment in the heatmap.
MAX_COHORTS = 24
MAX_MONTHS = 24
#: Cells get their percentage written in when the grid is at most this wide.
ANNOTATE_MAX_COLUMNS = 25

DIMENSION_TITLES = {
    "primary_condition": "Primary condition",
    "location_type": "Location",
    "referral_source": "Referral source",
}


def churn_drivers(data: ReportData) -> tuple[Figure, str]:
    drivers = data.churn_drivers
    overall = float(data.churn_overall.get("churn_rate", np.nan))
    panels = [d for d in CHURN_DRIVER_DIMENSIONS if (drivers["dimension"] == d).any()]
    heights = []
    groups = {}
    omitted = {}
    for dimension in panels:
        rows = drivers[drivers["dimension"] == dimension]
        shown = rows.sort_values(["patients", "dimension_value"], ascending=[False, True]).head(MAX_GROUPS)
        omitted[dimension] = len(rows) - len(shown)
        # highest churn at the top: barh draws the first row at the bottom
        groups[dimension] = shown.sort_values(["churn_rate", "dimension_value"], ascending=[True, False])
        heights.append(max(2, len(shown)))
    fig = style.new_figure(11, 1.2 + 0.42 * sum(heights) + 0.5 * len(panels))
    axes = fig.subplots(len(panels), 1, gridspec_kw={"height_ratios": heights}, sharex=True, squeeze=False)[:, 0]
    top = max([float(drivers["churn_rate_ci_high"].max()), overall if overall == overall else 0.0])
    for ax, dimension in zip(axes, panels, strict=False):
        rows = groups[dimension]
        low = rows["churn_rate"] - rows["churn_rate_ci_low"]
        high = rows["churn_rate_ci_high"] - rows["churn_rate"]
        above = rows["churn_rate_ci_low"] > overall
        below = rows["churn_rate_ci_high"] < overall
        colors = [
            style.HIGHLIGHT if a else style.GREEN if b else style.PRIMARY for a, b in zip(above, below, strict=False)
        ]
        labels = [
            f"{style.pretty(v, 22)} (n={style.fmt_count(n)})"
            for v, n in zip(rows["dimension_value"], rows["patients"], strict=False)
        ]
        y = np.arange(len(rows))
        ax.barh(y, rows["churn_rate"], color=colors, height=0.62)
        ax.errorbar(rows["churn_rate"], y, xerr=[low, high], fmt="none", ecolor=style.INK, elinewidth=1, capsize=3)
        for yi, rate, hi in zip(y, rows["churn_rate"], rows["churn_rate_ci_high"], strict=False):
            ax.text(
                hi + 0.01,
                yi,
                style.fmt_pct(rate),
                va="center",
                fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
            )
        ax.axvline(overall, color=style.REFERENCE, linestyle="--", linewidth=1)
        ax.set_yticks(y, labels)
        ax.grid(axis="y", visible=False)
        title = DIMENSION_TITLES.get(dimension, style.pretty(dimension, 40))
        if omitted[dimension]:
            title += f" (largest {len(rows)} groups; {omitted[dimension]} smaller not shown)"
        ax.set_title(title, loc="left")
    axes[-1].set_xlim(0, style.nice_pct_limit(top + 0.08))
    axes[-1].xaxis.set_major_formatter(style.PCT_AXIS)
    axes[-1].set_xlabel("churn rate (% of patients), bars: 95% Wilson interval")
    fig.legend(
        handles=[
            Patch(color=style.HIGHLIGHT, label="higher than overall (interval above it)"),
            Patch(color=style.GREEN, label="lower than overall (interval below it)"),
            Patch(color=style.PRIMARY, label="interval includes the overall rate"),
            Line2D([0], [0], color=style.REFERENCE, linestyle="--", label=f"overall {style.fmt_pct(overall)}"),
        ],
        loc="outside lower center",
        ncols=4,
    )
    fig.suptitle(f"Churn rate by patient attribute — as of {data.as_of_date:%Y-%m-%d}")
    caption = (
        f"marts.churn_drivers: share of patients churned on {data.as_of_date:%Y-%m-%d} (no engagement event for "
        "more than churn_inactivity_days) per group, with its 95% Wilson interval; the dashed line is the overall "
        f"rate ({style.fmt_pct(overall)}). Groups whose interval lies wholly above (orange) or below (green) the "
        "overall rate differ from it beyond sampling noise."
    )
    return fig, caption


def rfm_segments(data: ReportData) -> tuple[Figure, str]:
    seg = data.rfm_segments.sort_values(["patients", "rfm_segment"], ascending=[True, False]).reset_index(drop=True)
    total_patients = seg["patients"].sum()
    total_revenue = seg["revenue_usd"].sum()
    fig = style.new_figure(11, 1.4 + 0.36 * max(4, len(seg)))
    left, right = fig.subplots(1, 2, sharey=True)
    caption = (
        "marts.patient_rfm: patients per RFM segment (recency, frequency and monetary quintile scores mapped to a "
        "named segment by seed rfm_segment_map) and their revenue over the rfm_window_days before the as-of date "
        "(monetary). Sorted by segment size; both panels share the order."
    )
    fig.suptitle(f"RFM segments — {style.fmt_count(total_patients)} patients, as of {data.as_of_date:%Y-%m-%d}")
    if seg.empty:
        style.no_data(left, "no patients in marts.patient_rfm")
        style.no_data(right, "")
        return fig, caption
    y = np.arange(len(seg))
    labels = [style.pretty(s, 24) for s in seg["rfm_segment"]]
    bars = left.barh(y, seg["patients"], color=style.PRIMARY, height=0.65)
    left.bar_label(
        bars,
        labels=[f"{style.fmt_count(v)} ({style.fmt_pct(v / total_patients)})" for v in seg["patients"]],
        padding=3,
        fontsize=8,
    )
    left.set_xlim(0, max(1, seg["patients"].max()) * 1.35)
    left.set_yticks(y, labels)
    left.set_xlabel("patients")
    left.xaxis.set_major_formatter(style.COUNT_AXIS)
    left.set_title("Segment size", loc="left")
    left.grid(axis="y", visible=False)

    bars = right.barh(y, seg["revenue_usd"], color=style.GREEN, height=0.65)
    shares = [v / total_revenue if total_revenue else 0.0 for v in seg["revenue_usd"]]
    right.bar_label(
        bars,
        labels=[f"{style.fmt_usd(v)} ({style.fmt_pct(s)})" for v, s in zip(seg["revenue_usd"], shares, strict=False)],
        padding=3,
        fontsize=8,
    )
    right.set_xlim(0, max(1.0, seg["revenue_usd"].max()) * 1.45)
    right.set_xlabel("revenue in the RFM window (USD)")
    right.xaxis.set_major_formatter(style.USD_AXIS)
    right.set_title("Segment revenue", loc="left")
    right.grid(axis="y", visible=False)
    return fig, caption


def cohort_retention(data: ReportData) -> tuple[Figure, str]:
    cohorts = data.cohorts.copy()
    cohorts["enrolment_month"] = pd.to_datetime(cohorts["enrolment_month"])
    months = sorted(cohorts["enrolment_month"].unique())[-MAX_COHORTS:]
    cohorts = cohorts[cohorts["enrolment_month"].isin(months) & (cohorts["months_since_enrolment"] < MAX_MONTHS)]
    grid = cohorts.pivot(index="enrolment_month", columns="months_since_enrolment", values="retention_rate")
    partial = cohorts.pivot(index="enrolment_month", columns="months_since_enrolment", values="is_complete_month")
    sizes = cohorts.groupby("enrolment_month")["cohort_size"].max().reindex(grid.index)
    n_rows, n_cols = grid.shape
    fig = style.new_figure(11, 1.6 + 0.28 * max(6, n_rows))
    ax = fig.subplots()
    fig.suptitle(f"Cohort retention — as of {data.as_of_date:%Y-%m-%d}")
    caption = (
        "marts.cohort_retention: for each enrolment month, the share of the cohort with at least one engagement "
        f"event in each later calendar month (numbers in %). At most the latest {MAX_COHORTS} cohorts and "
        f"{MAX_MONTHS} months are drawn; cells marked * fall in the as-of month, which is incomplete."
    )
    if grid.empty:
        style.no_data(ax, "no enrolment cohorts in marts.cohort_retention")
        return fig, caption
    image = ax.imshow(
        grid.to_numpy(dtype=float),
        aspect="auto",
        cmap=style.HEATMAP_CMAP,
        vmin=0,
        vmax=max(0.05, float(np.nanmax(grid.to_numpy(dtype=float)))),
        interpolation="nearest",
    )
    ax.grid(visible=False)
    ax.spines[:].set_visible(False)
    ax.set_xticks(range(n_cols), [str(c) for c in grid.columns])
    ax.set_yticks(
        range(n_rows), [f"{m:%Y-%m} (n={style.fmt_compact(s)})" for m, s in zip(grid.index, sizes, strict=False)]
    )
    ax.set_xlabel("months since enrolment (0 = enrolment month)")
    ax.set_ylabel("enrolment cohort (patients)")
    if n_cols <= ANNOTATE_MAX_COLUMNS:
        values = grid.to_numpy(dtype=float)
        norm = image.norm
        for (i, j), value in np.ndenumerate(values):
            if np.isnan(value):
                continue
            complete = bool(partial.iat[i, j]) if not pd.isna(partial.iat[i, j]) else True
            text = f"{value * 100:.0f}" + ("" if complete else "*")
            ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color="black" if norm(value) > 0.6 else "white")
    bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.01)
    bar.ax.yaxis.set_major_formatter(style.PCT_AXIS)
    bar.set_label("patients active in the month (% of cohort)")
    shown = (
        f"latest {n_rows} cohorts" if len(data.cohorts["enrolment_month"].unique()) > n_rows else f"{n_rows} cohorts"
    )
    ax.set_title(
        f"Monthly retention by enrolment cohort ({shown}; * = month observed only to the as-of date)",
        loc="left",
        fontsize=9,
        fontweight="normal",
    )
    return fig, caption


def care_journey_funnel(data: ReportData) -> tuple[Figure, str]:
    funnel = data.funnel.sort_values("stage_order", ascending=False).reset_index(drop=True)
    pathway = int(funnel["pathway_patients"].max()) if len(funnel) else 0
    fig = style.new_figure(11, 1.8 + 0.55 * max(3, len(funnel)))
    ax = fig.subplots()
    caption = (
        "marts.care_journey_funnel, stages in pathway order (seed care_journey_stage_order): patients who entered and "
        "completed each stage, with the stage's conversion (completed / entered); the share of everyone on the "
        "pathway who completed it; and patients whose journey dropped out at that stage (no progress for more than "
        "dropout_after_days)."
    )
    fig.suptitle(
        f"Care journey funnel — {style.fmt_count(pathway)} patients on the pathway, as of {data.as_of_date:%Y-%m-%d}"
    )
    if funnel.empty or pathway == 0:
        style.no_data(ax, "no patient entered the care pathway")
        return fig, caption
    y = np.arange(len(funnel))
    ax.barh(y, funnel["patients_entered"], color=style.MUTED, height=0.7, label="entered the stage")
    ax.barh(y, funnel["patients_completed"], color=style.PRIMARY, height=0.42, label="completed the stage")
    widest = max(1, int(funnel["patients_entered"].max()) if len(funnel) else 1)
    for yi, row in zip(y, funnel.itertuples(), strict=False):
        conversion = "–" if pd.isna(row.stage_conversion_rate) else style.fmt_pct(row.stage_conversion_rate)
        cumulative = "–" if pd.isna(row.cumulative_conversion_rate) else style.fmt_pct(row.cumulative_conversion_rate)
        ax.text(
            row.patients_entered + widest * 0.01,
            yi,
            f"entered {style.fmt_count(row.patients_entered)} · completed {style.fmt_count(row.patients_completed)} "
            f"({conversion})\n{cumulative} of the pathway completed it · "
            f"dropped out here {style.fmt_count(row.patients_dropped_out)}",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, widest * 1.9)
    ax.set_yticks(
        y, [f"{int(o)}. {style.pretty(s, 20)}" for o, s in zip(funnel["stage_order"], funnel["stage"], strict=False)]
    )
    ax.set_xlabel("patients")
    ax.xaxis.set_major_formatter(style.COUNT_AXIS)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    return fig, caption
