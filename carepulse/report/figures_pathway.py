"""The care-pathway dropout and future-Champion models (issue 15 points 2 and 3).

Why from the held-out predictions: like the churn and engagement figures, every number is
recomputed from ml.holdout_predictions_current (labels and probabilities of the current
run's later, held-out cutoffs), so the figure shows how the model did on periods it never
saw. The right panel is what a care or sales team with limited capacity gets: the share
of true positives among the top-scored examples against the base rate.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import curves, style
from .data import ReportData

MODELS = ("dropout", "champion")
TITLES = {"dropout": "pathway dropout", "champion": "future Champion"}
COLORS = {"dropout": style.PURPLE, "champion": style.GREEN}
#: Shares of the held-out examples contacted first, best scores first.
TOP_SHARES = (0.1, 0.2, 0.3)


def _top_precision(labels: np.ndarray, probability: np.ndarray, share: float) -> float:
    """Positive rate among the top `share` of examples (ties by position: deterministic)."""
    k = max(1, int(round(share * len(labels))))
    order = np.argsort(-probability, kind="stable")[:k]
    return float(labels[order].mean())


def dropout_and_champions(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(11, 4.6)
    roc_ax, top_ax = fig.subplots(1, 2)
    holdout = data.ml.holdout if data.ml is not None else None
    found = []
    roc_ax.plot([0, 1], [0, 1], color=style.GREY, linestyle=":", linewidth=1, label="random (AUC 0.500)")
    width = 0.8 / len(MODELS)
    for i, name in enumerate(MODELS):
        rows = holdout[holdout["model_name"] == name].sort_values("example_id") if holdout is not None else None
        if rows is None or not len(rows):
            continue
        labels = rows["label"].astype(int).to_numpy()
        probability = rows["probability"].to_numpy(dtype=float)
        if not curves.has_both_classes(labels):
            continue
        c = curves.compute(labels, probability)
        found.append(f"{TITLES[name]}: held-out ROC AUC {style.fmt_metric(c.roc_auc)} on {style.fmt_count(c.n)}")
        roc_ax.plot(c.fpr, c.tpr, color=COLORS[name], linewidth=1.8, label=f"{TITLES[name]}: AUC {c.roc_auc:.3f}")
        x = np.arange(len(TOP_SHARES)) + (i - (len(MODELS) - 1) / 2) * width
        values = [_top_precision(labels, probability, share) for share in TOP_SHARES]
        bars = top_ax.bar(x, values, width=width, color=COLORS[name], label=TITLES[name])
        top_ax.bar_label(bars, [style.fmt_pct(v, 0) for v in values], padding=2, fontsize=8)
        top_ax.hlines(c.base_rate, x[0] - width / 2, x[-1] + width / 2, color=COLORS[name], linestyle="--", linewidth=1)
    if not found:
        style.no_data(roc_ax, "No dropout or champion model in this run.")
        style.no_data(top_ax, "")
        return fig, "No dropout or future-Champion model in the current run."
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("true positive rate")
    roc_ax.set_title("ROC on held-out later cutoffs", loc="left")
    roc_ax.legend(loc="lower right", fontsize=8)
    top_ax.set_xticks(np.arange(len(TOP_SHARES)), [f"top {style.fmt_pct(s, 0)}" for s in TOP_SHARES])
    top_ax.yaxis.set_major_formatter(style.PCT_AXIS)
    top_ax.set_ylim(0, 1.15)
    top_ax.set_title("true positives among the top-scored (dashed: base rate)", loc="left")
    top_ax.legend(loc="upper right", fontsize=8)
    caption = (
        "Care-pathway dropout (no stage entered or completed in the next dropout window) and future "
        "Champions (top segment within the next quarter), on the run's held-out later periods: "
        + "; ".join(found)
        + "."
    )
    return fig, caption
