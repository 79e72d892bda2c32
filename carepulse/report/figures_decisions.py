"""Recommendations figures: the funnel what-if and the provider revenue concentration curve.

Why separate from figures_patients / figures_providers: these draw the decision marts
(what-if projections under assumptions from seeds), which the page keeps apart from what
was observed, so a reader never takes a projection for a measurement.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from . import style
from .data import ReportData

#: Provider percentile quoted on the concentration curve ("the top 20% bring x%").
CONCENTRATION_MARK = 20


def funnel_what_if(data: ReportData) -> tuple[Figure, str]:
    funnel = data.recommendations.funnel
    fig = style.new_figure(11, 4.6)
    left, right = fig.subplots(1, 2)
    if funnel.empty:
        style.no_data(left, "No care pathway rows: nothing to project.")
        style.no_data(right, "No care pathway rows: nothing to project.")
        fig.suptitle("Care pathway what-if")
        return fig, "marts.funnel_what_if is empty (no patient has a pathway stage)."
    scenarios = list(dict.fromkeys(funnel["scenario"]))
    stages = funnel[funnel["scenario"] == scenarios[0]].sort_values("stage_order")
    x = np.arange(len(stages))
    for i, scenario in enumerate(scenarios):
        rows = funnel[funnel["scenario"] == scenario].sort_values("stage_order")
        baseline = scenario == "baseline"
        left.plot(
            x,
            rows["projected_patients_entered"],
            marker="o",
            markersize=3,
            color=style.REFERENCE if baseline else style.SERIES[i % len(style.SERIES)],
            linewidth=2.2 if baseline else 1.2,
            label=style.shorten(scenario, 34),
        )
    left.set_xticks(x, [style.pretty(s, 12) for s in stages["stage"]])
    left.set_ylabel("patients reaching the stage")
    left.yaxis.set_major_formatter(style.COUNT_AXIS)
    left.set_ylim(bottom=0)
    left.set_title("Patients reaching each stage", loc="left")
    left.legend(loc="upper right")

    rates = funnel.groupby("scenario", sort=False)["projected_follow_up_completion_rate"].first()
    rates = rates.sort_values(ascending=True)
    y = np.arange(len(rates))
    colors = [style.REFERENCE if s == "baseline" else style.PRIMARY for s in rates.index]
    bars = right.barh(y, rates.fillna(0.0), color=colors, height=0.6)
    baseline_rate = float(rates.get("baseline", np.nan))
    labels = []
    for scenario, rate in rates.items():
        text = style.fmt_pct(float(rate)) if np.isfinite(rate) else "–"
        if scenario != "baseline" and np.isfinite(rate) and np.isfinite(baseline_rate):
            text += f" ({style.fmt_points(100 * (float(rate) - baseline_rate))})"
        labels.append(text)
    right.bar_label(bars, labels=labels, padding=3, fontsize=8)
    right.set_yticks(y, [style.shorten(s, 34) for s in rates.index])
    right.set_xlim(0, style.nice_pct_limit(float(rates.max() if rates.notna().any() else 0) * 1.35))
    right.xaxis.set_major_formatter(style.PCT_AXIS)
    right.set_xlabel("pathway patients completing follow-up")
    right.set_title("Follow-up completion rate", loc="left")
    right.grid(axis="y", visible=False)

    fig.suptitle("Care pathway what-if (projections, not observations)")
    caption = (
        "marts.funnel_what_if: each scenario adds percentage points to a stage's conversion rate (completed / "
        "entered; seed funnel_uplift_scenarios, or the var funnel_uplift as scenario 'vars'); the share of a "
        "stage's completers who enter the next stage stays as observed, so the baseline is the observed funnel. "
        "Follow-up completion rate = projected completions of the last stage / pathway patients."
    )
    return fig, caption


def provider_concentration(data: ReportData) -> tuple[Figure, str]:
    curve = data.recommendations.concentration
    fig = style.new_figure(8, 4.6)
    ax = fig.subplots()
    if curve.empty or curve["cumulative_revenue_share"].isna().all():
        style.no_data(ax, "No provider revenue: no concentration curve.")
        fig.suptitle("Provider revenue concentration")
        return fig, "marts.provider_revenue_concentration has no revenue."
    p = np.concatenate([[0], curve["provider_percentile"].to_numpy(dtype=float)]) / 100
    share = np.concatenate([[0], curve["cumulative_revenue_share"].fillna(0).to_numpy(dtype=float)])
    ax.plot(p, share, color=style.ORANGE, linewidth=2, label="top p% of providers by revenue")
    ax.plot([0, 1], [0, 1], color=style.GREY, linestyle="--", linewidth=1, label="equal revenue per provider")
    mark = curve[curve["provider_percentile"] == CONCENTRATION_MARK].iloc[0]
    mark_share = float(mark["cumulative_revenue_share"])
    ax.plot([CONCENTRATION_MARK / 100], [mark_share], marker="o", color=style.HIGHLIGHT)
    ax.annotate(
        f"top {CONCENTRATION_MARK}% ({style.fmt_count(mark['top_providers'])} providers)\n"
        f"bring {style.fmt_pct(mark_share)} of revenue",
        xy=(CONCENTRATION_MARK / 100, mark_share),
        xytext=(0.42, 0.35),
        fontsize=9,
        arrowprops={"arrowstyle": "->", "color": style.INK},
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(style.PCT_AXIS)
    ax.yaxis.set_major_formatter(style.PCT_AXIS)
    ax.set_xlabel("top share of providers (ranked by revenue)")
    ax.set_ylabel("share of provider revenue")
    ax.legend(loc="lower right")
    total = float(curve["total_revenue"].iloc[0])
    fig.suptitle(
        f"Provider revenue concentration — {style.fmt_count(curve['providers'].iloc[0])} providers, "
        f"{style.fmt_usd(total)}"
    )
    caption = (
        "marts.provider_revenue_concentration: paid-claim revenue up to the as-of date brought by the top p% of "
        "providers (ranked by revenue; the top p% is the first ceil(p/100 × providers)). The dashed line is what "
        "equal revenue per provider would give."
    )
    return fig, caption
