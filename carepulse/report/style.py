"""Look and number formats shared by every figure and the page.

Why one module: the palette, fonts and number formats must be the same in every figure
and in index.html (a churn rate reads "69.3%" everywhere), and the matplotlib settings
that make the PNG bytes reproducible (no software tag, fixed hash salt) are set once.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in grey print.
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#8C8C8C"
LIGHT = "#D9D9D9"
INK = "#222222"

#: Main bar colour, highlight (stands out from the rest), reference lines.
PRIMARY = BLUE
HIGHLIGHT = VERMILLION
REFERENCE = INK
MUTED = SKY

#: One colour per model, used in every model figure.
MODEL_COLORS = {"churn": VERMILLION, "engagement": BLUE}

#: Series colours in order, for anything with several categories.
SERIES = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, GREY]

#: Colour map of the cohort heatmap (sequential, readable in grey).
HEATMAP_CMAP = "viridis"

DPI = 110

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "carepulse",
    # "$" is a currency sign in our labels, never the start of TeX math
    "text.parse_math": False,
    "path.simplify": True,
}


@contextmanager
def figure_style() -> Iterator[None]:
    """matplotlib settings of the report, for the duration of building and saving figures."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, outside pyplot (no display, no global state), constrained layout."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: Path) -> tuple[int, int]:
    """Write fig as PNG without metadata that changes between runs; returns (width, height) px."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    tmp.replace(path)
    with path.open("rb") as png:  # the IHDR chunk: width and height as written
        header = png.read(24)
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def no_data(ax, message: str) -> None:
    """An axes that says why it is empty instead of drawing an empty frame."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=9, color=INK)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(visible=False)


# --- numbers -------------------------------------------------------------------------


def fmt_count(value: float | int) -> str:
    """1234567 -> '1,234,567'."""
    return f"{int(round(value)):,}"


def fmt_pct(fraction: float, digits: int = 1) -> str:
    """0.6934 -> '69.3%'."""
    return f"{fraction * 100:.{digits}f}%"


def fmt_points(points: float) -> str:
    """Percentage points with a sign: 8.71 -> '+8.7 pts'."""
    return f"{points:+.1f} pts"


def _compact(value: float, prefix: str = "") -> str:
    """Three significant digits with K/M/B: 950 -> '950', 1234 -> '1.23K', 20000 -> '20K'."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= threshold * 0.9995:
            return f"{sign}{prefix}{value / threshold:.3g}{suffix}"
    if value >= 100 or value == int(value):
        return f"{sign}{prefix}{value:,.0f}"
    return f"{sign}{prefix}{value:.3g}"


def fmt_compact(value: float) -> str:
    """Axis and bar labels: 1234 -> '1.23K', 5_200_000 -> '5.20M'."""
    return _compact(value)


def fmt_usd(value: float) -> str:
    """USD on the page and in labels: '$947,678' below a million, '$1.16M' above."""
    if abs(value) < 1e6:
        return f"{'-' if value < 0 else ''}${abs(value):,.0f}"
    return _compact(value, "$")


def fmt_usd_compact(value: float) -> str:
    """USD on axes: '$950K', '$1.16M'."""
    return _compact(value, "$")


def fmt_ratio(value: float) -> str:
    """A ratio such as ROI: 38.2467 -> '38.2'."""
    return f"{value:,.1f}"


def fmt_metric(value: float) -> str:
    """A model metric in [0, 1]: 0.95339 -> '0.953'."""
    return f"{value:.3f}"


COUNT_AXIS = FuncFormatter(lambda value, _pos: fmt_compact(value))
USD_AXIS = FuncFormatter(lambda value, _pos: fmt_usd_compact(value))
PCT_AXIS = FuncFormatter(lambda value, _pos: f"{value * 100:.0f}%")


def nice_pct_limit(max_fraction: float) -> float:
    """An upper axis limit for a rate: the next 10% step above max_fraction (at most 100%)."""
    return min(1.0, math.ceil(max_fraction * 10 + 0.3) / 10) if max_fraction > 0 else 1.0


# --- labels --------------------------------------------------------------------------


#: Words written in capitals in labels (data values are lower case).
ACRONYMS = {
    "copd": "COPD",
    "ckd": "CKD",
    "hiv": "HIV",
    "adhd": "ADHD",
    "ptsd": "PTSD",
    "chf": "CHF",
    "sms": "SMS",
    "rfm": "RFM",
    "roi": "ROI",
    "npi": "NPI",
    "usd": "USD",
    "icd": "ICD",
}


def pretty(label: object, width: int = 18) -> str:
    """'heart_failure' -> 'Heart failure', 'copd' -> 'COPD', wrapped onto lines of at most width characters."""
    words = str(label).replace("_", " ").strip().split()
    words = [ACRONYMS.get(w.lower(), w) for w in words]
    text = " ".join(words)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True)) or "(blank)"


def shorten(label: object, width: int = 28) -> str:
    """One-line label cut to width characters with an ellipsis."""
    text = str(label).replace("_", " ").strip()
    return text if len(text) <= width else text[: width - 1] + "…"
