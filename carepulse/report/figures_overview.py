"""Executive KPIs: the four trends a reader looks at first."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from . import style
from .data import ReportData

#: Months of history shown in the trend panels.
TREND_MONTHS = 24


def _last_months(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame = frame.sort_values(column)
    return frame.tail(TREND_MONTHS).reset_index(drop=True)


def _date_axis(ax: Axes) -> None:
    locator = AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _monthly_bars(ax: Axes, months: pd.Series, values: pd.Series, partial: pd.Series, color: str) -> None:
    """Bars per month; the partial as-of month is hatched so nobody reads it as a drop."""
    x = pd.to_datetime(months)
    colors = [style.LIGHT if p else color for p in partial]
    bars = ax.bar(x, values, width=24, color=colors, edgecolor=color, linewidth=0.6)
    for bar, is_partial in zip(bars, partial, strict=True):
        if is_partial:
            bar.set_hatch("///")
    _date_axis(ax)


def executive_kpis(data: ReportData) -> tuple[Figure, str]:
    fig = style.new_figure(11, 6.6)
    axes = fig.subplots(2, 2)
    as_of_label = f"{data.as_of_date:%Y-%m-%d}"

    kpis = _last_months(data.executive_kpis, "period_start")
    partial = kpis["is_partial_period"].astype(bool)
    x = pd.to_datetime(kpis["period_start"])

    ax = axes[0, 0]
    ax.plot(x[~partial], kpis["active_patients"][~partial], color=style.PRIMARY, marker="o", markersize=3)
    if partial.any():
        ax.plot(
            x[partial],
            kpis["active_patients"][partial],
            linestyle="none",
            marker="o",
            markersize=5,
            markerfacecolor="white",
            markeredgecolor=style.PRIMARY,
            label=f"partial month (to {as_of_label})",
        )
        ax.legend(loc="lower left")
    ax.set_title("Active patients per month")
    ax.set_ylabel("patients with ≥ 1 event")
    ax.yaxis.set_major_formatter(style.COUNT_AXIS)
    ax.set_ylim(bottom=0)
    _date_axis(ax)

    ax = axes[0, 1]
    _monthly_bars(ax, kpis["period_start"], kpis["revenue_usd"], partial, style.GREEN)
    ax.set_title("Engagement revenue per month")
    ax.set_ylabel("revenue (USD)")
    ax.yaxis.set_major_formatter(style.USD_AXIS)

    claims = _last_months(data.monthly_claims, "claim_month")
    as_of_month = pd.Timestamp(data.as_of_date).to_period("M")
    claim_partial = pd.to_datetime(claims["claim_month"]).dt.to_period("M") == as_of_month
    ax = axes[1, 0]
    _monthly_bars(ax, claims["claim_month"], claims["paid_usd"], claim_partial, style.ORANGE)
    ax.set_title("Provider revenue per month (paid claims)")
    ax.set_ylabel("paid amount (USD)")
    ax.yaxis.set_major_formatter(style.USD_AXIS)

    ax = axes[1, 1]
    ax.plot(x, kpis["churn_rate"], color=style.HIGHLIGHT, marker="o", markersize=3, label="churn rate at month end")
    ax.plot(
        x,
        kpis["outreach_engagement_rate"],
        color=style.PRIMARY,
        marker="s",
        markersize=3,
        label="outreach engagement rate",
    )
    ax.set_title("Churn and outreach engagement rates")
    ax.set_ylabel("share")
    ax.yaxis.set_major_formatter(style.PCT_AXIS)
    ax.set_ylim(0, 1)
    ax.legend(loc="lower left")
    _date_axis(ax)

    fig.suptitle(f"Executive KPIs — as of {as_of_label}")
    caption = (
        f"Last {TREND_MONTHS} months of marts.executive_kpis (month rows) and marts.fct_claims (claims dated by "
        f"their end date); the as-of month {data.as_of_date:%B %Y} is observed only up to {as_of_label} and is "
        "drawn hatched / hollow. Churn rate at month end = patients with no event for more than "
        "churn_inactivity_days on that day / patients on the books; outreach engagement rate = engaged calls / "
        "calls made in the month."
    )
    return fig, caption
