"""`carepulse report`: matplotlib figures and one static index.html from the warehouse.

render_report(db_path, out_dir) reads the marts (and the ml tables when the ML step ran)
through one read-only connection, draws the figures with the Agg renderer into
out_dir/figures/*.png and writes out_dir/index.html with the headline numbers, the as-of
date, the data scale and the model run ids. Modules: data (queries), headlines (numbers
on the page), curves (ROC/PR/calibration/gains from held-out rows), figures_* (one per
figure family), catalog (the figure list), style (palette, formats), html (the page).
"""

from __future__ import annotations

from pathlib import Path

from .catalog import FIGURES, render_figures
from .data import WarehouseNotReady, load
from .headlines import all_headlines
from .html import render_page, write_page

__all__ = ["FIGURES", "WarehouseNotReady", "render_report"]


def render_report(db_path: Path, out_dir: Path, workers: int = 1) -> Path:
    """Render every figure the warehouse allows and index.html into out_dir; return its path.

    workers: processes drawing the figures (the CLI passes CAREPULSE_THREADS).
    """
    data = load(Path(db_path))  # first: a missing warehouse leaves no empty report folder behind
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = render_figures(data, out_dir, workers)
    return write_page(out_dir, render_page(data, all_headlines(data), figures))
