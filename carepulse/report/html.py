"""index.html: one static page with the figures and the headline numbers written out.

Why static: a person opens the file in a browser, from disk or a file share, with no
server. Every printed number carries its exact value (data-kpi / data-value attributes and
one JSON block, id "report-data"), so the page can be checked against the warehouse. A
small inline script records on <body> how many images failed to load and how many errors
happened (data-broken-images, data-page-errors), which the browser test reads; the page
needs no script to be read. Nothing time-dependent is written besides the as-of date.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from html import escape
from pathlib import Path

import pandas as pd

from . import style
from .catalog import RenderedFigure
from .data import ReportData
from .headlines import Headline

CSS = """
:root { --ink: #222; --muted: #666; --line: #ddd; --accent: #0072B2; --warn: #D55E00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink);
  margin: 0 auto; max-width: 1240px; padding: 1.5rem 1.5rem 3rem; line-height: 1.45; background: #fff; }
h1 { margin: 0 0 .2rem; font-size: 1.8rem; }
h2 { margin-top: 2.2rem; border-bottom: 2px solid var(--line); padding-bottom: .3rem; }
h3 { margin: 0 0 .4rem; font-size: 1.05rem; }
#headlines h3 { margin: 1.3rem 0 .5rem; }
.asof { color: var(--muted); margin: 0 0 1rem; font-size: 1.05rem; }
.asof strong { color: var(--ink); }
nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: .8rem; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: .7rem .8rem; }
.kpi .label { color: var(--muted); font-size: .85rem; }
.kpi .value { font-size: 1.5rem; font-weight: 700; overflow-wrap: anywhere; }
.kpi .value.id { font-size: .95rem; font-family: ui-monospace, monospace; font-weight: 600; }
.kpi .detail { font-size: .85rem; }
.kpi .source, .source { color: var(--muted); font-size: .75rem; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .7rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.date, td.num { white-space: nowrap; }
.notice { border-left: 4px solid var(--warn); background: #fff4ec; padding: .6rem .9rem; }
figure { margin: 1.6rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .88rem; max-width: 1000px; }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; }
code { font-size: .9em; }
"""

# Records load problems on <body>; read by the browser test, harmless for a reader.
CHECK_SCRIPT = """
(function () {
  var errors = 0;
  window.addEventListener('error', function () { errors += 1; mark(); }, true);
  function mark() {
    if (!document.body) { return; }
    var images = document.images, broken = 0;
    for (var i = 0; i < images.length; i++) {
      if (!images[i].complete || images[i].naturalWidth === 0) { broken += 1; }
    }
    document.body.setAttribute('data-images', String(images.length));
    document.body.setAttribute('data-broken-images', String(broken));
    document.body.setAttribute('data-page-errors', String(errors));
  }
  window.addEventListener('load', function () { mark(); document.body.setAttribute('data-loaded', 'true'); });
})();
"""


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return value


def _attr(value) -> str:
    value = _json_value(value)
    if isinstance(value, float):
        return repr(value)
    return escape(str(value), quote=True)


def _kpi(h: Headline) -> str:
    detail = f'<div class="detail">{escape(h.detail)}</div>' if h.detail else ""
    kind = "value id" if h.key.endswith("_run_id") else "value"
    return (
        f'<div class="kpi" id="kpi-{escape(h.key)}"><div class="label">{escape(h.label)}</div>'
        f'<div class="{kind}" data-kpi="{escape(h.key)}" data-value="{_attr(h.value)}">{escape(h.text)}</div>'
        f'{detail}<div class="source">{escape(h.source)}</div></div>'
    )


def _scale_table(scale: list[Headline]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{escape(h.label)}</th>'
        f'<td class="num" data-kpi="{escape(h.key)}" data-value="{_attr(h.value)}">{escape(h.text)}</td>'
        f'<td class="source">{escape(h.source)}</td></tr>'
        for h in scale
    )
    return f'<table class="scale"><tbody>{rows}</tbody></table>'


def _date(value) -> str:
    return "" if value is None or pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"


def _metric(value) -> str:
    return "–" if value is None or pd.isna(value) else style.fmt_metric(float(value))


def _prose(text: str) -> str:
    """Escape text, showing `quoted` commands as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _models_section(data: ReportData) -> str:
    if data.ml is None:
        return (
            f'<p class="notice" id="ml-status" data-ml="missing">{_prose(data.ml_missing or "")} '
            "Figures of the models and the outreach lift are left out; everything else is complete.</p>"
        )
    header = (
        "<tr><th>model</th><th>run id</th><th>estimator</th><th>calibration</th><th>trained as of</th>"
        "<th>held-out period</th><th>held-out rows</th><th>base rate</th><th>ROC AUC</th><th>PR AUC</th>"
        "<th>Brier</th></tr>"
    )
    rows = []
    for run in data.ml.runs.to_dict("records"):
        rows.append(
            f'<tr data-model="{escape(str(run["model_name"]))}">'
            f"<td>{escape(str(run['model_name']))}</td>"
            f'<td><code data-run-id="{escape(str(run["run_id"]))}">{escape(str(run["run_id"]))}</code></td>'
            f"<td>{escape(str(run['estimator']))}</td><td>{escape(str(run['calibration']))}</td>"
            f'<td class="date">{_date(run["as_of_date"])}</td>'
            f'<td class="date">{_date(run["test_start"])} to<br>{_date(run["test_end"])}</td>'
            f'<td class="num">{style.fmt_count(run["test_rows"])}</td>'
            f'<td class="num">{"–" if pd.isna(run["base_rate"]) else style.fmt_pct(float(run["base_rate"]))}</td>'
            f'<td class="num">{_metric(run["roc_auc"])}</td><td class="num">{_metric(run["pr_auc"])}</td>'
            f'<td class="num">{_metric(run["brier"])}</td></tr>'
        )
    impact = ""
    if data.ml.impact is None:
        impact = (
            '<p class="source">marts.intervention_impact is not built (post-ML dbt step not run): '
            "the projected churn with outreach is left out.</p>"
        )
    return (
        '<p id="ml-status" data-ml="present">Current runs (ml.model_runs_current). Curves below are computed '
        "from each run's held-out predictions (ml.holdout_predictions_current).</p>"
        f'<table class="runs"><thead>{header}</thead><tbody>{"".join(rows)}</tbody></table>{impact}'
    )


#: A column of a Recommendations table: key in the row, header, how the value is printed.
Column = tuple[str, str, Callable[[object], str]]


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _num(fmt: Callable[[float], str]) -> Callable[[object], str]:
    return lambda value: "–" if value is None or pd.isna(value) else fmt(float(value))


def _data_table(table_id: str, key: str, columns: list[Column], rows: list[dict]) -> str:
    """A table whose every cell carries its exact value (data-col, data-value), like the KPIs."""
    head = "".join(f"<th>{escape(header)}</th>" for _, header, _ in columns)
    body = []
    for row in rows:
        cells = []
        for column, _, fmt in columns:
            value = row.get(column)
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            css = ' class="num"' if numeric else ""
            cells.append(f'<td{css} data-col="{escape(column)}" data-value="{_attr(value)}">{escape(fmt(value))}</td>')
        body.append(f'<tr data-{key}="{escape(_text(row.get(key)))}">{"".join(cells)}</tr>')
    return f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def _recommendations_tables(data: ReportData) -> str:
    """Segment actions, the visit-plan and retention scenarios and the funnel what-if, from the decision marts."""
    rec = data.recommendations
    pct, usd, ratio, count = _num(style.fmt_pct), _num(style.fmt_usd), _num(style.fmt_ratio), _num(style.fmt_count)
    actions = dict(zip(data.segments["segment"], data.segments["recommended_action"], strict=True))
    current = rec.visit_plans[(rec.visit_plans["scenario"] == "current_plan") & (rec.visit_plans["grain"] == "segment")]
    segment_rows = [{**row, "recommended_action": actions.get(row["segment"])} for row in _records(current)]
    parts = [
        "<h3>Provider segments: recommended action and visit plan</h3>",
        _data_table(
            "segment-actions",
            "segment",
            [
                ("segment", "segment", _text),
                ("providers", "providers", count),
                ("visits_per_quarter", "visits / quarter", count),
                ("investment", "quarterly cost", usd),
                ("roi", "ROI (all revenue)", ratio),
                ("quarterly_roi", "ROI (last quarter)", ratio),
                ("recommended_action", "recommended action", _text),
            ],
            segment_rows,
        ),
        (
            '<p class="source">marts.visit_plan_what_if (current_plan) and marts.segment_roi; actions from seed '
            "segment_visit_plans.</p>"
        ),
        "<h3>Visit plan what-if (portfolio)</h3>",
        _data_table(
            "visit-plan-scenarios",
            "scenario",
            [
                ("scenario", "scenario", _text),
                ("investment", "quarterly cost", usd),
                ("investment_change", "vs current plan", usd),
                ("roi", "ROI (all revenue)", ratio),
                ("quarterly_roi", "ROI (last quarter)", ratio),
                ("scenario_description", "assumption", _text),
            ],
            _records(rec.visit_plans[rec.visit_plans["grain"] == "portfolio"]),
        ),
        (
            '<p class="source">marts.visit_plan_what_if (grain portfolio); alternatives in seed '
            "visit_plan_alternatives. Same providers and revenue, only the cost side changes.</p>"
        ),
        "<h3>Retention scenarios</h3>",
    ]
    scenarios = None if data.ml is None else data.ml.scenarios
    if scenarios is None:
        parts.append(
            '<p class="notice" id="scenarios-missing">marts.intervention_scenarios is not built (it needs the ML '
            "step and the post-ML dbt models), so the retention scenarios are left out.</p>"
        )
    else:
        parts.append(
            _data_table(
                "intervention-scenarios",
                "scenario",
                [
                    ("scenario", "scenario", _text),
                    ("patients_targeted", "contacted", count),
                    ("churn_rate_without_plan", "churn without plan", pct),
                    ("churn_rate_with_plan", "churn with plan", pct),
                    ("relative_churn_reduction", "relative reduction", pct),
                    ("churners_avoided", "churners avoided", count),
                    ("revenue_retained", "revenue retained", usd),
                    ("plan_cost", "cost", usd),
                    ("net_value", "net", usd),
                    ("roi", "ROI", ratio),
                    ("scenario_description", "assumptions", _text),
                ],
                _records(scenarios),
            )
        )
        parts.append(
            '<p class="source">marts.intervention_scenarios: patients active at the as-of date who churn within '
            "each scenario's horizon, from the churn model's calibrated probabilities; save rates and costs are "
            "assumptions (seed intervention_scenario_assumptions), not measured effects. A scenario marked "
            "illustrative only shows which assumptions would give a published figure.</p>"
        )
    funnel = rec.funnel.groupby("scenario", sort=False).agg(
        scenario_description=("scenario_description", "first"),
        observed_follow_up_completion_rate=("observed_follow_up_completion_rate", "first"),
        projected_follow_up_completion_rate=("projected_follow_up_completion_rate", "first"),
    )
    last_stage = rec.funnel.sort_values("stage_order").groupby("scenario")["projected_patients_completed"].last()
    baseline_completed = float(last_stage.get("baseline", float("nan")))
    funnel["additional_completions"] = last_stage.reindex(funnel.index) - baseline_completed
    parts += [
        "<h3>Care pathway what-if</h3>",
        _data_table(
            "funnel-what-if",
            "scenario",
            [
                ("scenario", "scenario", _text),
                ("observed_follow_up_completion_rate", "follow-up completion now", pct),
                ("projected_follow_up_completion_rate", "projected", pct),
                ("additional_completions", "more patients completing", count),
                ("scenario_description", "assumption", _text),
            ],
            _records(funnel.reset_index()),
        ),
        (
            '<p class="source">marts.funnel_what_if; uplifts in seed funnel_uplift_scenarios or the var '
            "funnel_uplift (scenario vars).</p>"
        ),
    ]
    return "".join(parts)


def _monitoring_tables(data: ReportData) -> str:
    """Checked batches (predictions against outcomes) and the drift table, from the monitoring marts."""
    studies = data.ml.studies if data.ml is not None else None
    if studies is None or studies.outcomes is None:
        return ""
    metric, pct, count = _num(style.fmt_metric), _num(style.fmt_pct), _num(style.fmt_count)
    outcomes = studies.outcomes.assign(
        batch=studies.outcomes["model_name"] + "@" + studies.outcomes["as_of_date"].astype(str)
    )
    parts = [
        "<h3>Scored batches checked against what happened</h3>",
        _data_table(
            "prediction-outcomes",
            "batch",
            [
                ("model_name", "model", _text),
                ("as_of_date", "scored as of", _date),
                ("run_id", "run", _text),
                ("examples", "examples", count),
                ("realised_rate", "realised rate", pct),
                ("mean_probability", "mean predicted", pct),
                ("realised_roc_auc", "realised ROC AUC", metric),
                ("heldout_roc_auc", "held-out ROC AUC", metric),
                ("top_decile_precision", "top-decile precision", pct),
            ],
            _records(outcomes),
        )
        if len(outcomes)
        else '<p class="notice">No scored batch\'s outcome window has closed yet.</p>',
        '<p class="source">marts.model_prediction_outcomes (churn: no activity within churn_inactivity_days; '
        "engagement: calls on the recommended channel within engagement_outcome_days).</p>",
    ]
    if studies.drift is not None and len(studies.drift):
        drift = studies.drift.assign(key=studies.drift["model_name"] + "." + studies.drift["feature"])
        parts += [
            "<h3>Feature drift of the latest scored batch</h3>",
            _data_table(
                "feature-drift",
                "key",
                [
                    ("model_name", "model", _text),
                    ("feature", "feature", _text),
                    ("psi", "PSI", metric),
                    ("max_share_shift", "largest bin shift", pct),
                    ("drift_level", "level", _text),
                ],
                _records(drift),
            ),
            '<p class="source">marts.model_feature_drift, the highest PSI per model.</p>',
        ]
    return "".join(parts)


def _figure(figure: RenderedFigure) -> str:
    spec = figure.spec
    return (
        f'<figure id="fig-{escape(spec.name)}" data-figure="{escape(spec.name)}">'
        f"<h3>{escape(spec.title)}</h3>"
        f'<img src="{escape(figure.src)}" width="{figure.width}" height="{figure.height}" '
        f'alt="{escape(spec.title)}. {escape(figure.caption)}">'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>"
    )


def render_page(data: ReportData, headlines: list[Headline], figures: list[RenderedFigure]) -> str:
    as_of = f"{data.as_of_date:%Y-%m-%d}"
    source = {
        "latest_activity": "the latest activity date in the data",
    }.get(data.as_of_source, data.as_of_source.replace("_", " ") or "resolved by dbt")
    scale = [h for h in headlines if h.group == "scale"]
    groups = [("patients", "Patients"), ("providers", "Providers"), ("models", "Models")]
    kpi_blocks = "".join(
        f'<h3>{title}</h3><div class="kpis">{"".join(_kpi(h) for h in headlines if h.group == group)}</div>'
        for group, title in groups
        if any(h.group == group for h in headlines)
    )
    sections: dict[str, list[RenderedFigure]] = {}
    for figure in figures:
        sections.setdefault(figure.spec.section, []).append(figure)
    extra = {"Recommendations": _recommendations_tables(data), "Monitoring": _monitoring_tables(data)}
    figure_html = "".join(
        f'<section id="section-{escape(name.lower())}"><h2>{escape(name)}</h2>{extra.get(name, "")}'
        f"{''.join(_figure(f) for f in items)}</section>"
        for name, items in sections.items()
    )
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in [("scale", "Data scale"), ("headlines", "Headline numbers"), ("models", "Model runs")]
        + [(f"section-{name.lower()}", name) for name in sections]
    )
    payload = {
        "as_of_date": as_of,
        "as_of_source": data.as_of_source,
        "headlines": {h.key: _json_value(h.value) for h in headlines},
        "figures": [f.src for f in figures],
        "ml_ran": data.ml is not None,
        "ml_missing": data.ml_missing,
        "run_ids": {}
        if data.ml is None
        else {str(r["model_name"]): str(r["run_id"]) for r in data.ml.runs.to_dict("records")},
    }
    blob = json.dumps(payload, sort_keys=True, indent=1).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>carepulse report — as of {as_of}</title>
<style>{CSS}</style>
<script>{CHECK_SCRIPT}</script>
</head>
<body data-as-of="{as_of}">
<header>
<h1>carepulse report</h1>
<p class="asof">As of <strong><time datetime="{as_of}" data-kpi="as_of_date" data-value="{as_of}">{as_of}</time></strong>
({escape(source)}). Every figure and number below is read from the warehouse
<code>{escape(data.db_path.name)}</code>; “days since” and “active” are relative to this date.</p>
<nav>{nav}</nav>
</header>
<section id="scale"><h2>Data scale</h2>{_scale_table(scale)}</section>
<section id="headlines"><h2>Headline numbers</h2>{kpi_blocks}</section>
<section id="models"><h2>Model runs</h2>{_models_section(data)}</section>
{figure_html}
<footer>Generated by <code>carepulse report</code> (also the last step of <code>carepulse build</code>) from the marts
and ml tables. Definitions: README.md and the dbt docs of each model named under a number.</footer>
<script type="application/json" id="report-data">
{blob}
</script>
</body>
</html>
"""


def write_page(out_dir: Path, page: str) -> Path:
    """Write index.html atomically (a reader never sees half a page)."""
    path = Path(out_dir) / "index.html"
    tmp = path.with_name("index.html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
