"""Model figures: ROC and precision-recall, calibration, feature importance, outreach lift.

All curves come from ml.holdout_predictions_current (the current run's held-out examples
with their true labels); the metrics quoted next to them are recomputed from the same
rows. Feature importance is ml.feature_importance_current as stored by the ML step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import curves, style
from .data import ReportData
from .headlines import LIFT_SHARES

MODELS = ("churn", "engagement")
MODEL_TITLES = {"churn": "Churn model", "engagement": "Engagement model"}
#: Features shown per model.
TOP_FEATURES = 12
IMPORTANCE_AXIS = {
    "permutation_roc_auc": "mean drop in held-out ROC AUC when the column is shuffled",
    "lr_coefficient": "logistic regression coefficient (standardised / one-hot column)",
}


def model_curves(data: ReportData) -> dict[str, curves.Curves | None]:
    """Curves per model present in the held-out predictions (None when one class is missing)."""
    out: dict[str, curves.Curves | None] = {}
    if data.ml is None:
        return out
    for name in MODELS:
        rows = data.ml.holdout[data.ml.holdout["model_name"] == name]
        if len(rows):
            out[name] = curves.compute(rows["label"].astype(int).to_numpy(), rows["probability"].to_numpy(dtype=float))
    return out


def _run(data: ReportData, name: str) -> dict:
    runs = data.ml.runs if data.ml is not None else pd.DataFrame()
    match = runs[runs["model_name"] == name]
    return match.iloc[0].to_dict() if len(match) else {}


def _estimator(data: ReportData, name: str) -> str:
    """'logistic regression' for the model's current run."""
    return style.pretty(_run(data, name).get("estimator", "unknown estimator"), 80).lower()


def _model_label(data: ReportData, name: str) -> str:
    return f"{name} ({_estimator(data, name)})"


def roc_pr(data: ReportData) -> tuple[Figure, str]:
    found = model_curves(data)
    fig = style.new_figure(11, 4.8)
    roc_ax, pr_ax = fig.subplots(1, 2)
    roc_ax.plot([0, 1], [0, 1], color=style.GREY, linestyle=":", linewidth=1, label="random (AUC 0.500)")
    for name in MODELS:
        c = found.get(name)
        if c is None:
            continue
        color = style.MODEL_COLORS[name]
        roc_ax.plot(
            c.fpr,
            c.tpr,
            color=color,
            linewidth=1.8,
            label=f"{_model_label(data, name)}: AUC {style.fmt_metric(c.roc_auc)}, n={style.fmt_count(c.n)}",
        )
        pr_ax.step(
            c.recall,
            c.precision,
            where="post",
            color=color,
            linewidth=1.8,
            label=f"{name}: AP {style.fmt_metric(c.average_precision)}",
        )
        pr_ax.axhline(
            c.base_rate, color=color, linestyle=":", linewidth=1, label=f"{name} base rate {style.fmt_pct(c.base_rate)}"
        )
    for ax in (roc_ax, pr_ax):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_aspect("equal")
        ax.xaxis.set_major_formatter(style.PCT_AXIS)
        ax.yaxis.set_major_formatter(style.PCT_AXIS)
    roc_ax.set_xlabel("false positive rate (% of negatives flagged)")
    roc_ax.set_ylabel("true positive rate (% of positives flagged)")
    roc_ax.set_title("ROC curve (held-out)", loc="left")
    roc_ax.legend(loc="lower right")
    pr_ax.set_xlabel("recall (% of positives flagged)")
    pr_ax.set_ylabel("precision (% of flagged that are positive)")
    pr_ax.set_title("Precision-recall curve (held-out)", loc="left")
    if pr_ax.get_legend_handles_labels()[0]:
        pr_ax.legend(loc="lower left")
    missing = [n for n in MODELS if found.get(n) is None]
    if len(missing) == len(MODELS):
        style.no_data(roc_ax, "no held-out predictions with both classes")
    fig.suptitle("Model discrimination on held-out data")
    caption = (
        "ROC and precision-recall curves of the current churn and engagement models on their held-out examples "
        "(ml.holdout_predictions_current: churn — patients at the latest labelled cutoff, label = no event in the "
        "churn horizon; engagement — outreach calls of the last held-out days, label = engaged). AUC and average "
        "precision are recomputed from those rows."
        + (f" No usable held-out rows for: {', '.join(missing)}." if missing else "")
    )
    return fig, caption


def calibration(data: ReportData) -> tuple[Figure, str]:
    found = model_curves(data)
    fig = style.new_figure(11, 5.6)
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1])
    for column, name in enumerate(MODELS):
        ax = fig.add_subplot(grid[0, column])
        hist = fig.add_subplot(grid[1, column], sharex=ax)
        c = found.get(name)
        ax.set_title(MODEL_TITLES[name], loc="left")
        if c is None:
            style.no_data(ax, "no held-out predictions with both classes")
            style.no_data(hist, "")
            continue
        color = style.MODEL_COLORS[name]
        ax.plot([0, 1], [0, 1], color=style.GREY, linestyle=":", linewidth=1, label="perfectly calibrated")
        ax.plot(
            c.calibration_predicted,
            c.calibration_observed,
            color=color,
            marker="o",
            markersize=4,
            label=f"{_model_label(data, name)}, {len(c.calibration_counts)} equal-count bins",
        )
        run = _run(data, name)
        if run.get("calibration_error") is not None and np.isfinite(run["calibration_error"]):
            ax.text(
                0.02,
                0.97,
                f"calibration error {style.fmt_metric(float(run['calibration_error']))}\n"
                f"Brier {style.fmt_metric(float(run['brier']))}",
                transform=ax.transAxes,
                va="top",
                fontsize=8,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_ylabel("observed rate (% positive)")
        ax.yaxis.set_major_formatter(style.PCT_AXIS)
        ax.legend(loc="lower right")
        ax.tick_params(labelbottom=False)
        rows = data.ml.holdout[data.ml.holdout["model_name"] == name]
        hist.hist(rows["probability"].to_numpy(dtype=float), bins=np.linspace(0, 1, 21), color=color, alpha=0.75)
        hist.set_xlabel("predicted probability (%)")
        hist.set_ylabel("examples")
        hist.xaxis.set_major_formatter(style.PCT_AXIS)
        hist.yaxis.set_major_formatter(style.COUNT_AXIS)
    fig.suptitle("Calibration on held-out data: do predicted probabilities match observed rates?")
    caption = (
        "Reliability diagrams from ml.holdout_predictions_current: held-out examples sorted by predicted probability "
        "and cut into 10 equal-count bins (as the ML step's calibration error); each point is a bin's mean "
        "prediction against its observed positive rate. Below: how the predictions are spread. Calibration error "
        "and Brier score are the stored metrics of ml.model_runs_current."
    )
    return fig, caption


def feature_importance(data: ReportData) -> tuple[Figure, str]:
    importance = data.ml.importance if data.ml is not None else pd.DataFrame()
    fig = style.new_figure(11, 1.4 + 0.3 * TOP_FEATURES)
    axes = fig.subplots(1, 2)
    methods_used = []
    for ax, name in zip(axes, MODELS, strict=False):
        rows = importance[importance["model_name"] == name]
        methods = [m for m in ("permutation_roc_auc", "lr_coefficient") if (rows["method"] == m).any()]
        ax.set_title(f"{MODEL_TITLES[name]} ({_estimator(data, name)})", loc="left")
        if not methods:
            style.no_data(ax, "no feature importance stored")
            continue
        method = methods[0]
        methods_used.append(method)
        top = rows[rows["method"] == method].copy()
        top["magnitude"] = top["importance"].abs()
        top = top.sort_values(["magnitude", "feature"], ascending=[False, True]).head(TOP_FEATURES)
        top = top.iloc[::-1]
        colors = [style.MODEL_COLORS[name] if v >= 0 else style.GREY for v in top["importance"]]
        y = np.arange(len(top))
        bars = ax.barh(y, top["importance"], color=colors, height=0.65)
        ax.bar_label(bars, labels=[f"{v:.3f}" for v in top["importance"]], padding=3, fontsize=7.5)
        ax.set_yticks(y, [style.shorten(f, 30) for f in top["feature"]])
        ax.axvline(0, color=style.INK, linewidth=0.8)
        lo, hi = float(min(0.0, top["importance"].min())), float(max(0.0, top["importance"].max()))
        span = (hi - lo) or 1.0
        ax.set_xlim(lo - (0.25 * span if lo < 0 else 0), hi + 0.25 * span)
        ax.set_xlabel(IMPORTANCE_AXIS.get(method, method))
        ax.grid(axis="y", visible=False)
    fig.suptitle(f"What drives each model: top {TOP_FEATURES} features")
    caption = (
        "ml.feature_importance_current for the current run. Permutation importance (preferred when stored): the "
        "mean drop of held-out ROC AUC when one raw warehouse column is shuffled; negative values (grey) are "
        "noise. Otherwise the logistic regression's coefficients on standardised or one-hot columns (grey = lowers "
        "the probability). Features ranked by absolute value."
    )
    return fig, caption


def outreach_lift(data: ReportData) -> tuple[Figure, str]:
    c = model_curves(data).get("engagement")
    fig = style.new_figure(11, 4.8)
    gains_ax, lift_ax = fig.subplots(1, 2)
    if c is None:
        style.no_data(gains_ax, "no held-out engagement predictions with both outcomes")
        style.no_data(lift_ax, "")
        return fig, "No held-out engagement predictions with both engaged and not engaged calls."
    color = style.MODEL_COLORS["engagement"]
    gains_ax.plot([0, 1], [0, 1], color=style.GREY, linestyle=":", linewidth=1, label="random order")
    best_x = [0.0, c.base_rate, 1.0]
    gains_ax.plot(best_x, [0.0, 1.0, 1.0], color=style.INK, linestyle="--", linewidth=1, label="perfect order")
    gains_ax.plot(c.gains_x, c.gains_y, color=color, linewidth=2, label="ranked by engagement model")
    for share in LIFT_SHARES:
        captured = curves.captured_at(c.gains_x, c.gains_y, share)
        gains_ax.plot([share], [captured], marker="o", color=color)
        gains_ax.annotate(
            f"top {share:.0%} → {style.fmt_pct(captured, 0)}",
            (share, captured),
            xytext=(8, -12),
            textcoords="offset points",
            fontsize=8,
        )
    gains_ax.set_xlim(0, 1)
    gains_ax.set_ylim(0, 1.02)
    gains_ax.set_aspect("equal")
    gains_ax.xaxis.set_major_formatter(style.PCT_AXIS)
    gains_ax.yaxis.set_major_formatter(style.PCT_AXIS)
    gains_ax.set_xlabel("calls made, best-scored first (% of held-out calls)")
    gains_ax.set_ylabel("engaged outcomes reached (% of all engaged)")
    gains_ax.set_title("Cumulative gains", loc="left")
    gains_ax.legend(loc="lower right")

    deciles = np.arange(1, 11)
    rates = []
    for decile in deciles:
        lo, hi = (decile - 1) / 10, decile / 10
        found = curves.captured_at(c.gains_x, c.gains_y, hi) - curves.captured_at(c.gains_x, c.gains_y, lo)
        rates.append(found * 10)  # share of positives in the decile / 10% = lift
    bars = lift_ax.bar(deciles, rates, color=[color if r >= 1 else style.MUTED for r in rates], width=0.7)
    lift_ax.bar_label(
        bars,
        labels=[f"{r:.1f}×" for r in rates],
        padding=2,
        fontsize=8,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
    )
    lift_ax.axhline(1.0, color=style.INK, linestyle="--", linewidth=1, label="random (1×)")
    lift_ax.set_xticks(deciles, [f"{(d - 1) * 10}–{d * 10}%" for d in deciles], rotation=35, ha="right")
    lift_ax.set_xlabel("decile of calls by predicted P(engaged), best first")
    lift_ax.set_ylabel("lift (engaged rate / overall engaged rate)")
    lift_ax.set_ylim(0, max(1.5, max(rates) * 1.2))
    lift_ax.set_title("Lift per decile", loc="left")
    lift_ax.legend(loc="upper right")
    lift_ax.grid(axis="x", visible=False)
    run = _run(data, "engagement")
    period = ""
    if run.get("test_start") is not None:
        period = f" from {pd.Timestamp(run['test_start']):%Y-%m-%d} to {pd.Timestamp(run['test_end']):%Y-%m-%d}"
    fig.suptitle("Outreach lift: share of engaged outcomes reached by calling the top k% of calls first")
    caption = (
        f"Held-out outreach calls of the current engagement run{period} ({style.fmt_count(c.n)} calls, "
        f"{style.fmt_count(c.positives)} engaged, ml.holdout_predictions_current), ranked by the model's predicted "
        "P(engaged), which it computed without seeing their outcomes. The curve is the share of all engaged "
        "outcomes among the top k% of calls (ties in the score counted in random order); the bars are each "
        "decile's engaged rate over the overall rate. Outcomes are per call, as recorded in outreach_calls."
    )
    return fig, caption
