"""The list of figures, in page order, and drawing them to PNG files.

Why a catalog: the page, the CLI and the tests all need the same list of figure names,
and which of them need the ML tables; adding a figure is one line here.
"""

from __future__ import annotations

from collections.abc import Callable
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


def render_figures(data: ReportData, out_dir: Path) -> list[RenderedFigure]:
    """Draw every figure the data allows into out_dir/figures; remove stale ones of ours."""
    figures_dir = Path(out_dir) / FIGURES_DIR
    figures_dir.mkdir(parents=True, exist_ok=True)
    rendered: list[RenderedFigure] = []
    with style.figure_style():
        for spec in FIGURES:
            if spec.needs_ml and data.ml is None:
                continue
            fig, caption = spec.draw(data)
            path = figures_dir / f"{spec.name}.png"
            width, height = style.save_png(fig, path)
            rendered.append(RenderedFigure(spec, path, f"{FIGURES_DIR}/{path.name}", width, height, caption))
    drawn = {r.spec.name for r in rendered}
    for spec in FIGURES:
        if spec.name not in drawn:
            (figures_dir / f"{spec.name}.png").unlink(missing_ok=True)
    return rendered
