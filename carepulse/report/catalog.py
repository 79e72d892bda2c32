"""The list of figures, in page order, and drawing them to PNG files.

Why a catalog: the page, the CLI and the tests all need the same list of figure names,
and which of them need the ML tables; adding a figure is one line here.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from . import (
    figures_decisions,
    figures_models,
    figures_overview,
    figures_pathway,
    figures_patients,
    figures_providers,
    figures_studies,
    style,
)
from .data import ReportData

#: Folder of the PNG files, relative to the report's out_dir.
FIGURES_DIR = "figures"


@dataclass(frozen=True)
class FigureSpec:
    name: str  # file stem and HTML id
    section: str
    title: str
    draw: Callable[[ReportData], tuple[Figure, str]]
    needs_ml: bool = False


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("executive_kpis", "Overview", "Executive KPIs", figures_overview.executive_kpis),
    FigureSpec("churn_drivers", "Patients", "Churn drivers", figures_patients.churn_drivers),
    FigureSpec("rfm_segments", "Patients", "RFM segments: size and revenue", figures_patients.rfm_segments),
    FigureSpec("cohort_retention", "Patients", "Cohort retention", figures_patients.cohort_retention),
    FigureSpec("care_journey_funnel", "Patients", "Care journey funnel", figures_patients.care_journey_funnel),
    FigureSpec(
        "provider_segments",
        "Providers",
        "Provider segments: revenue share and ROI",
        figures_providers.provider_segments,
    ),
    FigureSpec("model_roc_pr", "Models", "ROC and precision-recall curves", figures_models.roc_pr, needs_ml=True),
    FigureSpec("model_calibration", "Models", "Calibration", figures_models.calibration, needs_ml=True),
    FigureSpec("feature_importance", "Models", "Feature importance", figures_models.feature_importance, needs_ml=True),
    FigureSpec("outreach_lift", "Models", "Outreach lift", figures_models.outreach_lift, needs_ml=True),
    FigureSpec(
        "dropout_and_champions",
        "Models",
        "Care-pathway dropout and future Champions",
        figures_pathway.dropout_and_champions,
        needs_ml=True,
    ),
    FigureSpec(
        "behavioural_segments", "Models", "Behavioural segments", figures_studies.segment_profiles, needs_ml=True
    ),
    FigureSpec("best_time_to_reach", "Models", "Best time to reach", figures_studies.best_time_to_reach, needs_ml=True),
    FigureSpec(
        "patient_value", "Models", "Patient value and value at risk", figures_studies.patient_value, needs_ml=True
    ),
    FigureSpec(
        "prediction_outcomes",
        "Monitoring",
        "Predictions against outcomes",
        figures_studies.prediction_outcomes,
        needs_ml=True,
    ),
    FigureSpec("feature_drift", "Monitoring", "Feature drift (PSI)", figures_studies.feature_drift, needs_ml=True),
    FigureSpec("funnel_what_if", "Recommendations", "Care pathway what-if", figures_decisions.funnel_what_if),
    FigureSpec(
        "provider_concentration",
        "Recommendations",
        "Provider revenue concentration",
        figures_decisions.provider_concentration,
    ),
)


@dataclass(frozen=True)
class RenderedFigure:
    spec: FigureSpec
    path: Path
    src: str  # path relative to out_dir, as written in index.html
    width: int
    height: int
    caption: str


def render_figures(data: ReportData, out_dir: Path, workers: int = 1) -> list[RenderedFigure]:
    """Draw every figure the data allows into out_dir/figures; remove stale ones of ours.

    With workers > 1 the figures are drawn in that many processes (matplotlib draws in
    pure Python, one core each: 18 figures take about 8 s of CPU at scale 1). A figure's
    PNG does not depend on the process that drew it, so the files are the same either way.
    """
    figures_dir = Path(out_dir) / FIGURES_DIR
    figures_dir.mkdir(parents=True, exist_ok=True)
    specs = [spec for spec in FIGURES if not (spec.needs_ml and data.ml is None)]
    _DATA[:] = [data]
    try:
        if workers > 1 and len(specs) > 1:
            # fork: a worker starts with the data and the imports (a spawned one pays about 2 s of
            # CPU to import matplotlib and sklearn again). The children only draw with matplotlib and
            # numpy, never DuckDB or OpenMP, whose threads (the ML step may have run in this
            # process) a forked child does not have.
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=context) as pool:
                drawn = list(pool.map(_draw_one, [spec.name for spec in specs], [figures_dir] * len(specs)))
        else:
            drawn = [_draw_one(spec.name, figures_dir) for spec in specs]
    finally:
        _DATA.clear()
    rendered = [
        RenderedFigure(spec, path, f"{FIGURES_DIR}/{path.name}", width, height, caption)
        for spec, (path, width, height, caption) in zip(specs, drawn, strict=True)
    ]
    names = {spec.name for spec in specs}
    for spec in FIGURES:
        if spec.name not in names:
            (figures_dir / f"{spec.name}.png").unlink(missing_ok=True)
    return rendered


#: The report data while render_figures draws it; forked workers inherit it.
_DATA: list[ReportData] = []


def _draw_one(name: str, figures_dir: Path) -> tuple[Path, int, int, str]:
    """Draw one figure of the catalog to figures_dir/<name>.png: (path, width, height, caption)."""
    spec = next(spec for spec in FIGURES if spec.name == name)
    with style.figure_style():
        fig, caption = spec.draw(_DATA[0])
        path = figures_dir / f"{spec.name}.png"
        width, height = style.save_png(fig, path)
    return path, width, height, caption
