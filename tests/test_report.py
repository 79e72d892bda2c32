"""The report: every figure is drawn, the page's numbers equal the marts, the page loads.

Two warehouses: the shared dbt-only `small_warehouse` (the report without the ML step) and
a copy of it with a quick ML run (logistic regression only, one importance repeat), scores
and the post-ML marts, so every figure and every headline is exercised. The numbers on the
page are compared with SQL written here, independently of carepulse.report's queries
(e.g. the churn rate from patient_churn rather than churn_drivers). Chromium is Debian's
package (`make browser` installs it); without it the browser test is skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import query
from matplotlib.figure import Figure
from matplotlib.image import imread

from carepulse.report import FIGURES, render_report, style
from carepulse.report import data as report_data

ML_FIGURES = {spec.name for spec in FIGURES if spec.needs_ml}
PLAIN_FIGURES = {spec.name for spec in FIGURES if not spec.needs_ml}


# --- reading the page -------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.kpis: dict[str, list[tuple[str, str]]] = {}
        self.images: list[dict[str, str]] = []
        self.figures: list[str] = []
        self.body: dict[str, str] = {}
        self.ml_status: str | None = None
        self.ml_status_text = ""
        self.run_ids: list[str] = []
        self.json_text = ""
        self._open: list[tuple[str, str | None, str | None]] = []  # tag, kpi key, value
        self._in_json = False
        self._in_status = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if tag == "img":
            self.images.append(a)
        if "data-figure" in a:
            self.figures.append(a["data-figure"])
        if "data-run-id" in a:
            self.run_ids.append(a["data-run-id"])
        if a.get("id") == "ml-status":
            self.ml_status = a.get("data-ml")
            self._in_status = 1
        elif self._in_status:
            self._in_status += 1
        if tag == "script" and a.get("id") == "report-data":
            self._in_json = True
        if "data-kpi" in a:
            self._open.append((tag, a["data-kpi"], a.get("data-value")))
            self.kpis.setdefault(a["data-kpi"], []).append((a.get("data-value", ""), ""))

    def handle_endtag(self, tag: str) -> None:
        if self._in_status:
            self._in_status -= 1
        if tag == "script":
            self._in_json = False
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_json:
            self.json_text += data
        if self._in_status:
            self.ml_status_text += data
        if self._open:
            key = self._open[-1][1]
            value, text = self.kpis[key][-1]
            self.kpis[key][-1] = (value, text + data)


@dataclass
class Report:
    db: Path
    out: Path
    index: Path
    page: _Page
    payload: dict


def _read_page(db: Path, index: Path) -> Report:
    page = _Page()
    page.feed(index.read_text(encoding="utf-8"))
    return Report(db=db, out=index.parent, index=index, page=page, payload=json.loads(page.json_text))


def _shown_number(text: str) -> tuple[float, float]:
    """('$1.16M' | '69.3%' | '1,000' | '0.953') -> (value, tolerance from the digits shown)."""
    t = text.strip()
    percent = t.endswith("%")
    t = t.rstrip("%").lstrip("$").replace(",", "")
    multiplier = {"K": 1e3, "M": 1e6, "B": 1e9}.get(t[-1:], 1.0)
    t = t.rstrip("KMB")
    decimals = len(t.split(".")[1]) if "." in t else 0
    value, tolerance = float(t) * multiplier, 0.5 * 10**-decimals * multiplier
    if percent:
        value, tolerance = value / 100, tolerance / 100
    return value, tolerance


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_report(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The report of the dbt-only warehouse (what `carepulse build --no-ml` publishes)."""
    out = tmp_path_factory.mktemp("report_plain")
    return _read_page(small_warehouse, render_report(small_warehouse, out))


@pytest.fixture(scope="module")
def ml_warehouse(ml_session_warehouse: Path) -> Path:
    """The session warehouse after a quick ML step (logistic regression only, one importance
    repeat), scores and the post-ML marts (conftest), shared with the determinism check."""
    return ml_session_warehouse


@pytest.fixture(scope="module")
def ml_report(ml_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """Drawn by two worker processes (the CLI's default); the plain report by one, and
    test_cli_report_is_byte_identical... compares the two ways byte for byte."""
    out = tmp_path_factory.mktemp("report_ml_out")
    return _read_page(ml_warehouse, render_report(ml_warehouse, out, workers=2))


# --- figures ----------------------------------------------------------------------------


def _assert_figures(report: Report, expected: set[str]) -> None:
    assert set(report.page.figures) == expected
    assert report.payload["figures"] == [f"figures/{name}.png" for name in report.page.figures]
    images = {img["src"]: img for img in report.page.images}
    for name in expected:
        path = report.out / "figures" / f"{name}.png"
        assert path.exists(), f"{name}.png was not drawn"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert path.stat().st_size > 20_000, f"{name}.png is suspiciously small"
        pixels = imread(path)
        img = images[f"figures/{name}.png"]
        assert (pixels.shape[1], pixels.shape[0]) == (int(img["width"]), int(img["height"])), name
        assert pixels[..., :3].std() > 0.05, f"{name}.png is blank"
        assert img["alt"].strip(), f"{name} has no alt text"


def test_every_figure_is_drawn_non_empty_and_shown_on_the_page(ml_report: Report) -> None:
    _assert_figures(ml_report, PLAIN_FIGURES | ML_FIGURES)
    assert ml_report.page.ml_status == "present"
    assert ml_report.payload["ml_ran"] is True


def test_without_the_ml_step_the_page_says_so_and_keeps_the_other_figures(plain_report: Report) -> None:
    _assert_figures(plain_report, PLAIN_FIGURES)
    for name in ML_FIGURES:
        assert not (plain_report.out / "figures" / f"{name}.png").exists()
    assert plain_report.page.ml_status == "missing"
    assert "ML step did not run" in plain_report.page.ml_status_text
    assert plain_report.payload["ml_ran"] is False and plain_report.payload["run_ids"] == {}
    assert not any(key.endswith("_run_id") for key in plain_report.page.kpis)


# --- numbers ----------------------------------------------------------------------------


def _expected_from_marts(db: Path) -> dict[str, object]:
    """Every headline of the page, from SQL written independently of the report's queries."""
    one = lambda sql: query(db, sql).iloc[0, 0]  # noqa: E731
    condition = query(
        db,
        """
        select coalesce(p.primary_condition, 'unknown') as condition, avg(cast(c.is_churned as int)) as rate
        from marts.patient_churn as c inner join marts.dim_patients as p using (patient_id)
        group by 1 order by rate desc, condition limit 1
        """,
    ).iloc[0]
    rfm = query(
        db,
        """
        select rfm_segment, sum(monetary) / (select sum(monetary) from marts.patient_rfm) as share
        from marts.patient_rfm group by 1 order by sum(monetary) desc, rfm_segment limit 1
        """,
    ).iloc[0]
    segment = query(
        db,
        "select segment, revenue_share from marts.segment_roi where providers > 0 "
        "order by revenue_share desc, segment limit 1",
    ).iloc[0]
    return {
        "as_of_date": str(one("select as_of_date from marts.as_of_date"))[:10],
        "patients": one("select count(*) from marts.dim_patients"),
        "engagement_events": one("select count(*) from marts.fct_engagement_events"),
        "claims": one("select count(*) from marts.fct_claims"),
        "providers": one("select count(*) from marts.dim_providers"),
        "outreach_calls": one("select sum(attempts) from marts.outreach_performance"),
        "pathway_patients": one("select count(*) from marts.patient_journey"),
        "quarantined_rows": one("select sum(rows_quarantined) from audit.audit_reconciliation"),
        "churn_rate": one("select avg(cast(is_churned as int)) from marts.patient_churn"),
        "churned_patients": one("select count(*) from marts.patient_churn where is_churned"),
        "active_patients": one("select count(*) from marts.patient_churn where churn_status = 'active'"),
        "highest_churn_condition": condition["condition"],
        "highest_churn_condition_rate": condition["rate"],
        "engagement_revenue_usd": one("select sum(revenue_usd) from marts.fct_engagement_events"),
        "month1_retention": one(
            "select sum(active_patients) / sum(cohort_size) from marts.cohort_retention "
            "where months_since_enrolment = 1 and is_complete_month"
        ),
        "pathway_completion_rate": one(
            "select avg(case when pathway_completed_date is not null then 1.0 else 0 end) from marts.patient_journey"
        ),
        "top_rfm_segment": rfm["rfm_segment"],
        "top_rfm_segment_revenue_share": rfm["share"],
        "outreach_engagement_rate": one("select sum(engaged) / sum(attempts) from marts.outreach_performance"),
        "provider_revenue_usd": one("select sum(total_revenue) from marts.provider_performance"),
        "portfolio_roi": one("select roi from marts.portfolio_roi"),
        "top_provider_segment": segment["segment"],
        "top_provider_segment_revenue_share": segment["revenue_share"],
        "top_20pct_providers_revenue_share": _top_providers_share(db, 20),
    }


def _top_providers_share(db: Path, percent: int) -> float:
    """Revenue of the top ceil(percent% x providers) providers over all provider revenue, in pandas."""
    revenue = np.sort(query(db, "select total_revenue from marts.provider_performance")["total_revenue"].astype(float))
    top = int(np.ceil(percent * len(revenue) / 100))
    return float(revenue[::-1][:top].sum() / revenue.sum())


def _expected_from_ml(db: Path) -> dict[str, object]:
    runs = query(db, "select model_name, run_id, roc_auc from ml.model_runs_current")
    expected: dict[str, object] = {}
    for run in runs.itertuples():
        expected[f"{run.model_name}_run_id"] = run.run_id
        # Models without a held-out ROC AUC (the K-means segments) show their run only.
        if run.roc_auc is not None and np.isfinite(run.roc_auc):
            expected[f"{run.model_name}_roc_auc"] = run.roc_auc
    # Lift: each held-out call counts as the mean label of its tie group (random order within ties).
    calls = query(
        db,
        "select probability, cast(label as int) as label from ml.holdout_predictions_current "
        "where model_name = 'engagement'",
    )
    calls["expected_label"] = calls.groupby("probability")["label"].transform("mean")
    calls = calls.sort_values("probability", ascending=False)
    found = np.concatenate([[0.0], np.cumsum(calls["expected_label"].to_numpy())]) / calls["label"].sum()
    reached = np.arange(len(calls) + 1) / len(calls)
    for share in (10, 20, 30):
        expected[f"engaged_reached_top_{share}pct"] = float(np.interp(share / 100, reached, found))
    # Projection: churned now plus expected churners of the worklist (without outreach), minus
    # those the top-N outreach saves (P(churn) x P(engage) x save rate), over all patients.
    projection = query(
        db,
        """
        with plan as (select top_n, save_rate from marts.intervention_impact)
        select
            (select count(*) from marts.patient_churn where is_churned) as churned,
            (select count(*) from marts.patient_churn) as patients,
            (select sum(churn_probability) from marts.outreach_priority) as expected_churners,
            (select sum(churn_probability * engage_probability * plan.save_rate) from marts.outreach_priority
             where priority_rank <= plan.top_n) as avoided
        from plan
        """,
    ).iloc[0]
    without = (projection.churned + projection.expected_churners) / projection.patients
    expected["projected_churn_without_outreach"] = without
    expected["projected_churn_with_outreach"] = without - projection.avoided / projection.patients
    return expected


def _assert_page_equals(report: Report, expected: dict[str, object]) -> None:
    kpis = report.page.kpis
    assert set(kpis) == set(expected), f"page vs SQL keys differ: {set(kpis) ^ set(expected)}"
    for key, want in expected.items():
        assert (
            report.payload["headlines"].get(key, report.payload["as_of_date"] if key == "as_of_date" else None)
            is not None
        ), key
        for value, text in kpis[key]:
            if isinstance(want, str):
                assert value == want, (key, value, want)
                continue
            want = float(want)
            assert float(value) == pytest.approx(want, rel=1e-9, abs=1e-9), (key, value, want)
            if key.endswith("_roc_auc") or key in {"portfolio_roi"}:
                shown, tolerance = float(text.replace(",", "")), 0.0005 if key.endswith("_roc_auc") else 0.05
            else:
                shown, tolerance = _shown_number(text)
            assert abs(shown - want) <= tolerance + 1e-9, f"{key}: page shows {text!r}, marts say {want}"
            if key != "as_of_date":
                assert report.payload["headlines"][key] == pytest.approx(want, rel=1e-9, abs=1e-9), key


def test_page_numbers_equal_the_marts_without_ml(plain_report: Report) -> None:
    _assert_page_equals(plain_report, _expected_from_marts(plain_report.db))
    assert plain_report.page.body["data-as-of"] == plain_report.payload["as_of_date"]


def test_page_numbers_equal_the_marts_and_ml_tables(ml_report: Report) -> None:
    expected = {**_expected_from_marts(ml_report.db), **_expected_from_ml(ml_report.db)}
    _assert_page_equals(ml_report, expected)
    runs = query(ml_report.db, "select model_name, run_id from ml.model_runs_current order by model_name")
    assert ml_report.payload["run_ids"] == dict(zip(runs.model_name, runs.run_id, strict=False))
    assert sorted(ml_report.page.run_ids) == sorted(runs.run_id)


# --- recommendations --------------------------------------------------------------------


def _page_table(report: Report, table_id: str, key: str) -> dict[str, dict[str, str]]:
    """{row key: {column: data-value}} of one Recommendations table of the page."""
    html = report.index.read_text(encoding="utf-8")
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"table {table_id} is not on the page"
    rows = {}
    for row_key, cells in re.findall(rf'<tr data-{key}="([^"]*)">(.*?)</tr>', match.group(1), re.S):
        rows[row_key] = dict(re.findall(r'data-col="([^"]+)" data-value="([^"]*)"', cells))
    return rows


def _num(value: str) -> float:
    return float("nan") if value in ("None", "nan", "") else float(value)


def test_recommendations_tables_equal_the_decision_marts(ml_report: Report) -> None:
    db = ml_report.db
    scenarios = _page_table(ml_report, "intervention-scenarios", "scenario")
    want = query(db, "select * from marts.intervention_scenarios").set_index("scenario")
    assert set(scenarios) == set(want.index)
    for name, cells in scenarios.items():
        for column in (
            "patients_targeted",
            "churn_rate_without_plan",
            "churn_rate_with_plan",
            "revenue_retained",
            "plan_cost",
            "net_value",
            "roi",
        ):
            assert _num(cells[column]) == pytest.approx(float(want.loc[name, column]), rel=1e-9), (name, column)
    # the segment actions: providers, visits and ROI of the current plan, the action of seed segment_visit_plans
    actions = _page_table(ml_report, "segment-actions", "segment")
    plans = pd.read_csv(Path(__file__).resolve().parent.parent / "seeds" / "providers" / "segment_visit_plans.csv")
    segments = query(db, "select segment, providers, roi from marts.segment_roi").set_index("segment")
    assert set(actions) == set(segments.index)
    for plan in plans.itertuples():
        cells = actions[plan.segment]
        assert cells["recommended_action"] == plan.recommended_action
        assert int(cells["visits_per_quarter"]) == plan.visits_per_quarter
        assert int(cells["providers"]) == segments.loc[plan.segment, "providers"]
        if not pd.isna(segments.loc[plan.segment, "roi"]):
            assert _num(cells["roi"]) == pytest.approx(segments.loc[plan.segment, "roi"], rel=1e-9)
    # funnel what-if: follow-up completion per scenario, from the funnel marts
    funnel = _page_table(ml_report, "funnel-what-if", "scenario")
    journey = query(db, "select * from marts.care_journey_funnel order by stage_order")
    observed = journey["patients_completed"].iloc[-1] / journey["pathway_patients"].iloc[-1]
    assert _num(funnel["baseline"]["projected_follow_up_completion_rate"]) == pytest.approx(observed, rel=1e-9)
    projected = query(
        db, "select scenario, max(projected_follow_up_completion_rate) as rate from marts.funnel_what_if group by 1"
    )
    for row in projected.itertuples():
        assert _num(funnel[row.scenario]["projected_follow_up_completion_rate"]) == pytest.approx(row.rate, rel=1e-9)
        assert _num(funnel[row.scenario]["observed_follow_up_completion_rate"]) == pytest.approx(observed, rel=1e-9)
    portfolio = _page_table(ml_report, "visit-plan-scenarios", "scenario")
    assert _num(portfolio["current_plan"]["roi"]) == pytest.approx(
        float(query(db, "select roi from marts.portfolio_roi").iloc[0, 0]), rel=1e-9
    )
    assert {"funnel_what_if", "provider_concentration"} <= set(ml_report.page.figures)


def test_recommendations_without_the_ml_step_say_the_scenarios_are_left_out(plain_report: Report) -> None:
    html = plain_report.index.read_text(encoding="utf-8")
    assert 'id="scenarios-missing"' in html and 'id="intervention-scenarios"' not in html
    assert _page_table(plain_report, "funnel-what-if", "scenario")["baseline"]


# --- the browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_page_loads_in_headless_chromium_without_errors(ml_report: Report, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "chromium is not installed (run `make browser`, which installs Debian's chromium with apt-get); "
            "the page load test needs it"
        )
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        ml_report.index.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    dom = _Page()
    dom.feed(result.stdout)
    assert dom.body.get("data-loaded") == "true", "the load event did not fire"
    assert dom.body.get("data-images") == str(len(FIGURES))
    assert dom.body.get("data-broken-images") == "0", "an image failed to load"
    assert dom.body.get("data-page-errors") == "0"
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, f"console messages: {console}"
    assert {img["src"] for img in dom.images} == {f"figures/{spec.name}.png" for spec in FIGURES}
    assert {key: texts for key, texts in dom.kpis.items()} == ml_report.page.kpis


# --- determinism and the CLI --------------------------------------------------------------


def test_cli_report_is_byte_identical_and_removes_stale_model_figures(
    plain_report: Report, small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carepulse.cli import main

    out = tmp_path / "reports"
    stale = out / "figures" / "model_roc_pr.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left over from a build with ML")
    monkeypatch.setenv("CAREPULSE_DB", str(small_warehouse))
    assert main(["report", "--out-dir", str(out)]) == 0
    assert not stale.exists()
    produced = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    expected = sorted(p.relative_to(plain_report.out) for p in plain_report.out.rglob("*") if p.is_file())
    assert produced == expected
    for relative in produced:
        assert (out / relative).read_bytes() == (plain_report.out / relative).read_bytes(), f"{relative} differs"


def test_missing_warehouse_is_a_plain_error(tmp_path: Path) -> None:
    with pytest.raises(report_data.WarehouseNotReady, match="carepulse build"):
        render_report(tmp_path / "absent.duckdb", tmp_path / "out")


# --- readability --------------------------------------------------------------------------


def _magnified(data: report_data.ReportData, factor: float) -> report_data.ReportData:
    """The same warehouse with every count and amount multiplied: the label lengths of a
    warehouse `factor` times larger (scale 10 is 1000 times the tests' scale 0.01)."""

    def times(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        frame = frame.copy()
        for column in columns:
            frame[column] = frame[column] * factor
        return frame

    return replace(
        data,
        scale={key: int(value * factor) for key, value in data.scale.items()},
        churn_drivers=times(data.churn_drivers, ["patients", "churned_patients"]),
        churn_status=times(data.churn_status, ["patients"]),
        monthly_activity=times(data.monthly_activity, ["active_patients", "events", "revenue_usd"]),
        monthly_claims=times(data.monthly_claims, ["claims", "paid_usd"]),
        rfm_segments=times(data.rfm_segments, ["patients", "revenue_usd"]),
        cohorts=times(data.cohorts, ["cohort_size", "active_patients"]),
        funnel=times(
            data.funnel,
            [
                "pathway_patients",
                "patients_entered",
                "patients_completed",
                "patients_dropped_out",
                "patients_in_progress",
            ],
        ),
        segments=times(data.segments, ["providers", "claim_count", "total_revenue", "investment", "profit"]),
        portfolio={**data.portfolio, "total_revenue": data.portfolio["total_revenue"] * factor},
        executive_kpis=times(data.executive_kpis, ["patients", "active_patients", "churned_patients", "revenue_usd"]),
        recommendations=replace(
            data.recommendations,
            funnel=times(
                data.recommendations.funnel,
                [
                    "pathway_patients",
                    "observed_patients_entered",
                    "projected_patients_entered",
                    "projected_patients_completed",
                ],
            ),
            concentration=times(
                data.recommendations.concentration, ["providers", "top_providers", "top_revenue", "total_revenue"]
            ),
        ),
        ml=None
        if data.ml is None
        else replace(data.ml, runs=data.ml.runs.assign(test_rows=data.ml.runs["test_rows"] * factor)),
    )


def _texts(fig: Figure) -> list:
    """Every visible, non-empty text of the figure that a reader has to read."""
    found = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) or 1.0
            for tick in axis.get_major_ticks():
                if low - 1e-6 * span <= tick.get_loc() <= high + 1e-6 * span:
                    found += [t for t in (tick.label1, tick.label2) if t.get_visible() and t.get_text().strip()]
            if axis.label.get_text():
                found.append(axis.label)
        found += [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        found += [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
        legend = ax.get_legend()
        if legend is not None:
            found += [t for t in legend.get_texts() if t.get_text()]
    for legend in fig.legends:
        found += [t for t in legend.get_texts() if t.get_text()]
    found += [t for t in fig.texts if t.get_text()]  # includes the suptitle
    unique = {id(t): t for t in found}
    return list(unique.values())


def _text_problems(name: str, fig: Figure) -> list[str]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    boxes = [(t.get_text().replace("\n", " "), t.get_window_extent(renderer)) for t in _texts(fig)]
    problems = [
        f"{name}: {text!r} is cut off at the edge"
        for text, box in boxes
        if box.x0 < page.x0 - 1 or box.y0 < page.y0 - 1 or box.x1 > page.x1 + 1 or box.y1 > page.y1 + 1
    ]
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        if box_a.width and box_b.width and box_a.shrunk(0.98, 0.9).overlaps(box_b.shrunk(0.98, 0.9)):
            problems.append(f"{name}: {a!r} overlaps {b!r}")
    return problems


@pytest.mark.parametrize("factor", [1, 1000], ids=["scale-0.01", "labels-of-scale-10"])
def test_labels_fit_and_do_not_overlap(ml_warehouse: Path, factor: int) -> None:
    data = report_data.load(ml_warehouse)
    if factor != 1:
        data = _magnified(data, factor)
    problems = []
    with style.figure_style():
        for spec in FIGURES:
            fig, caption = spec.draw(data)
            assert caption and re.search(r"\w", caption)
            problems += _text_problems(spec.name, fig)
    assert not problems, "\n".join(problems[:40])
