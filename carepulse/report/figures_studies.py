"""Figures of the studies' extra models and of model monitoring (issue 15 points 1, 4, 5, 6).

Why one module: all five read carepulse.report.data_studies' frames (post-ML marts) and
share the rule that a missing mart or an empty one gives a figure that says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import style
from .data import ReportData
from .data_studies import StudyData

#: ISO weekday numbers (1 = Monday) as printed.
WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def _studies(data: ReportData) -> StudyData | None:
    return getattr(data.ml, "studies", None) if data.ml is not None else None


def _frame(data: ReportData, name: str) -> pd.DataFrame | None:
    studies = _studies(data)
    frame = getattr(studies, name, None) if studies is not None else None
    return frame if frame is not None and len(frame) else None


def _empty(fig: Figure, axes, message: str, title: str, caption: str) -> tuple[Figure, str]:
    for ax in np.atleast_1d(axes):
        style.no_data(ax, message)
    fig.suptitle(title)
    return fig, caption


def segment_profiles(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(12, 4.4)
    axes = fig.subplots(1, 3)
    segments = _frame(data, "segments")
    if segments is None:
        return _empty(fig, axes, "No behavioural segments in this warehouse.", "Behavioural segments", "")
    labels = [style.pretty(name, 16) for name in segments["segment_name"]]
    y = np.arange(len(segments))[::-1]
    panels = [
        ("patients", "patients", style.COUNT_AXIS, style.fmt_count, style.PRIMARY),
        ("churn_rate", "churned at the as-of date", style.PCT_AXIS, style.fmt_pct, style.HIGHLIGHT),
        ("revenue_360d_per_patient", "revenue per patient, last 360 days", style.USD_AXIS, style.fmt_usd, style.GREEN),
    ]
    for ax, (column, title, axis, fmt, color) in zip(axes, panels, strict=True):
        values = segments[column].astype(float).fillna(0.0)
        bars = ax.barh(y, values, color=color, height=0.6)
        ax.bar_label(bars, [fmt(v) for v in values], padding=3, fontsize=8)
        ax.set_yticks(y, labels if ax is axes[0] else [""] * len(y))
        ax.xaxis.set_major_formatter(axis)
        limit = max(values.max(), 1e-9) * 1.3
        ax.set_xlim(0, min(limit, 1.15) if column == "churn_rate" else limit)
        ax.set_title(title, loc="left")
    biggest = segments.loc[segments["patients"].idxmax()]
    return fig, (
        f"{len(segments)} behavioural segments (K-means on usage, named by seed segment_naming_rules); the largest, "
        f"{biggest['segment_name']}, has {style.fmt_count(biggest['patients'])} patients. "
        "Source: marts.behavioural_segments."
    )


def best_time_to_reach(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(11, 4.4)
    ax = fig.subplots(1, 1)
    best, rates = _frame(data, "best_time"), _frame(data, "answer_rates")
    if best is None or rates is None:
        return _empty(fig, ax, "No best time to reach on the worklist.", "Best time to reach", "")
    hours = list(range(int(rates["hour_of_day"].min()), int(rates["hour_of_day"].max()) + 1))
    grid = rates.assign(rate=rates["engaged"] / rates["attempts"].where(rates["attempts"] > 0))
    grid = grid.pivot_table(index="iso_weekday", columns="hour_of_day", values="rate").reindex(
        index=list(WEEKDAYS), columns=hours
    )
    image = ax.imshow(grid.to_numpy(dtype=float), cmap=style.HEATMAP_CMAP, aspect="auto")
    ax.grid(visible=False)
    ax.set_yticks(range(len(WEEKDAYS)), list(WEEKDAYS.values()))
    ax.set_xticks(range(len(hours)), [f"{h:02d}" for h in hours])
    ax.set_xlabel("hour of the call (UTC)")
    fig.colorbar(image, ax=ax, label="observed engagement rate of calls")
    # the windows the engagement model recommends, outlined, with their patients
    for row in best.itertuples(index=False):
        y = list(WEEKDAYS).index(int(row.best_iso_weekday))
        x0 = hours.index(int(row.best_hour_start)) if int(row.best_hour_start) in hours else None
        if x0 is None:
            continue
        width = int(row.best_hour_end) - int(row.best_hour_start)
        ax.add_patch(Rectangle((x0 - 0.5, y - 0.5), width, 1, fill=False, edgecolor=style.HIGHLIGHT, linewidth=2.2))
        ax.text(
            x0 - 0.5 + width / 2,
            y,
            f"{style.fmt_count(row.patients)} patients",
            ha="center",
            va="center",
            fontsize=8,
            color="white",
            fontweight="bold",
        )
    ax.set_title("Observed engagement by weekday and hour; outlined: the model's best windows", loc="left")
    top = best.loc[best["patients"].idxmax()]
    return fig, (
        f"The engagement model's most common best window is {WEEKDAYS.get(int(top['best_iso_weekday']))} "
        f"{int(top['best_hour_start']):02d}-{int(top['best_hour_end']):02d}h "
        f"({style.fmt_count(top['patients'])} of {style.fmt_count(best['patients'].sum())} patients, mean P(engage) "
        f"{style.fmt_pct(top['mean_probability'])}); an additive model gives most patients the same window. "
        "Sources: marts.outreach_priority, marts.outreach_performance."
    )


def patient_value(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(11, 4.4)
    left, right = fig.subplots(1, 2)
    value = _frame(data, "value")
    if value is None:
        return _empty(fig, (left, right), "No patient_value rows.", "Patient value", "")
    amounts = value["expected_value"].astype(float)
    positive = amounts[amounts > 0]
    if len(positive):
        bins = np.geomspace(max(positive.min(), 1.0), max(positive.max(), 2.0), 30)
        left.hist(positive.clip(lower=bins[0]), bins=bins, color=style.PRIMARY)
        left.set_xscale("log")
    left.xaxis.set_major_formatter(style.USD_AXIS)
    left.set_xlabel("expected revenue over the next months (log scale)")
    left.set_ylabel("patients")
    left.set_title(f"Expected value per patient ({style.fmt_count((amounts <= 0).sum())} at $0 not shown)", loc="left")
    by_decile = value.groupby("churn_decile")[["expected_value", "expected_churn_loss"]].sum()
    x = by_decile.index.to_numpy()
    right.bar(x, by_decile["expected_value"], color=style.GREEN, label="expected value")
    right.bar(
        x,
        by_decile["expected_churn_loss"],
        bottom=by_decile["expected_value"],
        color=style.HIGHLIGHT,
        label="value at risk (expected churn loss)",
    )
    right.set_xticks(x, [str(int(d)) for d in x])
    right.set_xlabel("churn risk decile (10 = most likely to churn)")
    right.yaxis.set_major_formatter(style.USD_AXIS)
    right.set_title("Value kept and value at risk by churn risk", loc="left")
    right.legend(loc="upper left")
    at_risk = float(value["expected_churn_loss"].sum())
    return fig, (
        f"{style.fmt_count(len(value))} scored patients, expected value {style.fmt_usd(float(amounts.sum()))}, "
        f"value at risk {style.fmt_usd(at_risk)}. Source: marts.patient_value."
    )


def prediction_outcomes(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(11, 4.6)
    left, right = fig.subplots(1, 2)
    outcomes, calibration = _frame(data, "outcomes"), _frame(data, "calibration")
    pending = _frame(data, "pending")
    if outcomes is None:
        waiting = (
            f"first check on {pd.Timestamp(pending['checkable_on'].min()):%Y-%m-%d}" if pending is not None else ""
        )
        message = f"No scored batch's outcome window has closed yet\n{waiting}"
        return _empty(fig, (left, right), message, "Predictions against outcomes", "No batch checked yet. " + waiting)
    batches = sorted(pd.to_datetime(outcomes["as_of_date"]).unique())
    position = {b: i for i, b in enumerate(batches)}
    for i, (name, rows) in enumerate(outcomes.groupby("model_name", sort=True)):
        color = style.MODEL_COLORS.get(name, style.SERIES[i % len(style.SERIES)])
        x = [position[b] for b in pd.to_datetime(rows["as_of_date"])]
        left.plot(x, rows["realised_roc_auc"], marker="o", color=color, label=f"{name}: realised")
        left.plot(x, rows["heldout_roc_auc"], marker="x", linestyle=":", color=color, label=f"{name}: held out")
    left.set_xticks(range(len(batches)), [f"{pd.Timestamp(b):%Y-%m-%d}" for b in batches])
    left.set_xlim(-0.5, len(batches) - 0.5)
    left.set_ylim(0.4, 1.0)
    left.axhline(0.5, color=style.GREY, linewidth=0.8, linestyle="--")
    left.set_ylabel("ROC AUC")
    left.set_title("Realised ROC AUC per scored batch (as-of date)", loc="left")
    left.legend(loc="lower left", fontsize=8)
    right.plot([0, 1], [0, 1], color=style.GREY, linestyle=":", linewidth=1, label="perfect calibration")
    for i, (name, rows) in enumerate(calibration.groupby("model_name", sort=True) if calibration is not None else []):
        color = style.MODEL_COLORS.get(name, style.SERIES[i % len(style.SERIES)])
        right.plot(rows["mean_probability"], rows["realised_rate"], marker="o", color=color, label=name)
    right.set_xlabel("mean predicted probability (decile)")
    right.set_ylabel("realised rate")
    right.set_title("Calibration of the latest checked batch", loc="left")
    right.legend(loc="upper left", fontsize=8)
    churn = outcomes[outcomes["model_name"] == "churn"].tail(1)
    detail = (
        f"Churn batch of {pd.Timestamp(churn['as_of_date'].item()):%Y-%m-%d}: realised ROC AUC "
        f"{style.fmt_metric(churn['realised_roc_auc'].item())}, top-decile precision "
        f"{style.fmt_pct(churn['top_decile_precision'].item())}. "
        if len(churn) and pd.notna(churn["realised_roc_auc"].item())
        else ""
    )
    return fig, detail + "Source: marts.model_prediction_outcomes, marts.model_calibration_by_decile."


def feature_drift(data: ReportData) -> tuple[Figure, str]:
    drift = _frame(data, "drift")
    models = sorted(drift["model_name"].unique()) if drift is not None else []
    # two panels a row: four models (churn, engagement, dropout, champion) make a 2 x 2 grid
    columns = min(max(len(models), 1), 2)
    rows = -(-max(len(models), 1) // columns)
    fig = style.new_figure(11, 4.6 * rows)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    if drift is None:
        return _empty(fig, axes, "No feature distributions recorded.", "Feature drift", "")
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    axes = axes[: len(models)]
    colors = {"stable": style.GREEN, "moderate": style.ORANGE, "major": style.HIGHLIGHT}
    for ax, name in zip(axes, models, strict=True):
        rows = drift[drift["model_name"] == name].sort_values("psi")
        y = np.arange(len(rows))
        ax.barh(y, rows["psi"], color=[colors.get(level, style.GREY) for level in rows["drift_level"]], height=0.6)
        ax.set_yticks(y, [style.shorten(f, 26) for f in rows["feature"]])
        ax.axvline(0.1, color=style.GREY, linestyle=":", linewidth=1)
        ax.axvline(0.25, color=style.GREY, linestyle="--", linewidth=1)
        ax.set_xlabel("population stability index, training frame vs scored batch")
        ax.set_title(f"{name}: batch of {pd.Timestamp(rows['as_of_date'].iloc[0]):%Y-%m-%d}", loc="left")
    major = drift[drift["drift_level"] == "major"]
    return fig, (
        f"Highest PSI per model (lines at 0.1 and 0.25); {len(major)} feature(s) shown with major drift. Calendar "
        "features set by design at scoring (cutoff month, the next call's hour and weekday) and the champion model's "
        "features that grow with time (days since the first claim, active months) drift by construction. "
        "Source: marts.model_feature_drift."
    )
