"""The explorer (`carepulse app`): every page on the session warehouse with Streamlit's
AppTest, its filters against the marts, the worklist's CSV download, and a real server
rendered by headless Chromium (screenshot). Needs the optional extra (`make test` installs it).
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_DIR, query
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest
from websockets.sync.client import ClientConnection, connect

from carepulse.app import queries
from carepulse.app.connection import read_only_engine, snapshot
from carepulse.app.launch import MAIN
from carepulse.app.main import PAGES
from carepulse.app.views.scenarios import funnel_key, plan_key, plan_metrics
from carepulse.app.views.worklist import worklist_csv


@pytest.fixture
def app(ml_session_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app on the session warehouse after the ML step, first page rendered."""
    monkeypatch.setenv("CAREPULSE_DB", str(ml_session_warehouse))
    at = AppTest.from_file(str(MAIN), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, title: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(title).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_every_page_renders_from_the_published_warehouse(app: AppTest, ml_session_warehouse: Path) -> None:
    assert list(PAGES) == ["KPIs", "Churn drivers", "Outreach worklist", "Scenarios", "Providers"]
    assert app.sidebar.radio(key="page").options == list(PAGES)
    assert f"Read-only: {ml_session_warehouse}" in [c.value for c in app.sidebar.caption]
    as_of = query(ml_session_warehouse, "select cast(as_of_date as varchar) as d from marts.as_of_date").d[0]
    assert any(as_of in c.value for c in app.caption), "the KPI page states the as-of date"
    for title in PAGES:
        _open(app, title)
        assert app.header, title
        assert not app.error, (title, [e.value for e in app.error])


def test_kpi_page_shows_the_executive_kpis_as_of_row(app: AppTest, ml_session_warehouse: Path) -> None:
    row = query(
        ml_session_warehouse,
        "select patients, active_patients, churn_rate from marts.executive_kpis where period_type = 'as_of'",
    ).iloc[0]
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Patients"] == f"{int(row.patients):,}"
    assert metrics["Active patients"] == f"{int(row.active_patients):,}"
    assert metrics["Churn rate"] == f"{row.churn_rate:.1%}"
    months = query(ml_session_warehouse, "select count(*) as n from marts.executive_kpis").n[0]
    assert len(app.dataframe[0].value) == months


def test_scenarios_page_shows_each_decision_mart_by_scenario(app: AppTest, ml_session_warehouse: Path) -> None:
    _open(app, "Scenarios")
    assert [s.value for s in app.subheader] == ["Retention plans", "Care pathway uplift", "Visit plans"]
    plans = query(ml_session_warehouse, "select scenario, churners_avoided from marts.intervention_scenarios")
    assert sorted(app.dataframe[0].value["scenario"]) == sorted(plans.scenario)
    chosen = sorted(plans.scenario)[0]
    app.selectbox(key="scenario_intervention_scenarios").set_value(chosen).run()
    one = app.dataframe[0].value
    assert list(one["scenario"]) == [chosen]
    assert one["churners_avoided"].iloc[0] == plans.set_index("scenario").churners_avoided[chosen]


#: intervention_scenarios columns a plan computes (the assumptions echo the inputs).
PLAN_FIGURES = (
    "population_patients",
    "patients_targeted",
    "expected_churners",
    "churners_avoided",
    "churn_rate_without_plan",
    "churn_rate_with_plan",
    "relative_churn_reduction",
    "revenue_at_risk",
    "revenue_retained",
    "plan_cost",
    "net_value",
    "roi",
)


def _explorer_table(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page with the column whose rows are all the sliders' scenario."""
    rows = [f.value for f in app.dataframe if column in f.value and set(f.value["scenario"]) == {"explorer"}]
    assert len(rows) == 1, f"one table of the sliders' scenario with {column}"
    return rows[0]


def _plan(app: AppTest) -> pd.Series:
    """The plan the sliders give: the one-row table of marts.intervention_scenario_what_if."""
    return _explorer_table(app, "churners_avoided").iloc[0]


def test_retention_sliders_start_at_a_seed_scenario_and_give_its_mart_row(
    app: AppTest, ml_session_warehouse: Path
) -> None:
    _open(app, "Scenarios")
    mart = query(ml_session_warehouse, "select * from marts.intervention_scenarios").set_index("scenario")
    assert app.selectbox(key="plan_start").options == sorted(mart.index)
    # capacity binding, then no capacity and no engagement needed: both kinds of seed row
    for scenario in ("pilot_50_care_manager", "study_000_reduction"):
        app.selectbox(key="plan_start").set_value(scenario).run()
        assert not app.exception, [e.value for e in app.exception]
        row = mart.loc[scenario]
        key = functools.partial(plan_key, scenario)
        assert app.slider(key=key("save_rate")).value == row["save_rate"]
        assert app.slider(key=key("contact_cost")).value == row["contact_cost"]
        assert app.slider(key=key("horizon")).value == row["horizon_days"]
        assert app.checkbox(key=key("engagement")).value == row["requires_engagement"]
        assert app.checkbox(key=key("all")).value == pd.isna(row["capacity"])
        if not pd.isna(row["capacity"]):
            assert app.slider(key=key("capacity")).value == row["capacity"]
        assert "|".join(app.multiselect(key=key("bands")).value) == row["target_risk_bands"]
        plan = _plan(app)
        for column in PLAN_FIGURES:
            assert plan[column] == pytest.approx(row[column], rel=1e-12, abs=1e-9), (scenario, column)
        metrics = {metric.label: metric.value for metric in app.metric}
        assert {label: metrics[label] for label in plan_metrics(row)} == plan_metrics(row)


def test_moving_a_slider_moves_the_plan_the_expected_way(app: AppTest) -> None:
    _open(app, "Scenarios")
    scenario = "pilot_50_care_manager"  # capacity 50 binds at the session scale; save rate 0.4; $60 a call
    app.selectbox(key="plan_start").set_value(scenario).run()
    base = _plan(app)
    assert base["patients_targeted"] == 50 and base["churners_avoided"] > 0

    app.slider(key=plan_key(scenario, "save_rate")).set_value(0.8).run()
    doubled = _plan(app)
    assert doubled["churners_avoided"] == pytest.approx(2 * base["churners_avoided"], rel=1e-9)
    assert doubled["revenue_retained"] == pytest.approx(2 * base["revenue_retained"], rel=1e-9)
    assert doubled["churn_rate_with_plan"] < base["churn_rate_with_plan"]
    assert doubled["plan_cost"] == base["plan_cost"]

    app.slider(key=plan_key(scenario, "contact_cost")).set_value(120.0).run()
    dearer = _plan(app)
    assert dearer["plan_cost"] == 2 * doubled["plan_cost"] and dearer["net_value"] < doubled["net_value"]

    app.slider(key=plan_key(scenario, "capacity")).set_value(25).run()
    fewer = _plan(app)
    assert fewer["patients_targeted"] == 25 and fewer["churners_avoided"] < dearer["churners_avoided"]

    app.slider(key=plan_key(scenario, "horizon")).set_value(730).run()
    longer = _plan(app)
    assert longer["expected_churners"] > fewer["expected_churners"]

    app.multiselect(key=plan_key(scenario, "bands")).set_value([]).run()
    assert [w.value for w in app.warning] == ["target at least one risk band (names without '|'); got []"]


def test_a_warehouse_without_the_what_if_macros_says_so(ml_session_warehouse: Path, tmp_path: Path) -> None:
    old = tmp_path / ml_session_warehouse.name
    shutil.copy2(ml_session_warehouse, old)
    con = duckdb.connect(str(old))
    for macro in (queries.RETENTION_WHAT_IF, queries.FUNNEL_WHAT_IF):
        con.execute(f"drop macro table {macro}")
    con.close()
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    at.session_state["page"] = "Scenarios"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CAREPULSE_DB", str(old))
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("no marts.intervention_scenario_what_if" in i.value for i in at.info)
    assert any("no marts.funnel_what_if_explorer" in i.value for i in at.info)
    assert not at.slider


def test_a_bad_plan_is_a_plain_error() -> None:
    good = {
        "target_risk_bands": ("high",),
        "capacity": None,
        "save_rate": 0.3,
        "requires_engagement": True,
        "contact_cost": 10.0,
        "horizon_days": 365,
    }
    queries.RetentionPlan(**good)
    for change, message in (
        ({"save_rate": 1.5}, "save rate must be from 0 to 1; got 1.5"),
        ({"capacity": -1}, "capacity must be 0 or more"),
        ({"horizon_days": 0}, "horizon must be at least 1 day"),
        ({"contact_cost": -5.0}, "contact cost must be 0 or more"),
        ({"target_risk_bands": ("high|low",)}, "target at least one risk band"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            queries.RetentionPlan(**{**good, **change})


#: funnel_what_if columns the projection computes.
FUNNEL_FIGURES = (
    "conversion_uplift",
    "observed_conversion_rate",
    "projected_conversion_rate",
    "projected_patients_entered",
    "projected_patients_completed",
    "additional_patients_completed",
    "projected_follow_up_completion_rate",
)


def _funnel(app: AppTest) -> pd.DataFrame:
    """The stage rows the sliders give (marts.funnel_what_if_explorer's 'explorer' rows)."""
    return _explorer_table(app, "stage").sort_values("stage_order").reset_index(drop=True)


def test_funnel_sliders_start_at_a_seed_scenario_and_move_the_projection(
    app: AppTest, ml_session_warehouse: Path
) -> None:
    _open(app, "Scenarios")
    mart = query(ml_session_warehouse, "select * from marts.funnel_what_if order by scenario, stage_order")
    assert app.selectbox(key="funnel_start").options == sorted(set(mart["scenario"]))
    scenario = "screening_and_diagnosis_plus_5pts"
    app.selectbox(key="funnel_start").set_value(scenario).run()
    want = mart[mart["scenario"] == scenario].reset_index(drop=True)
    for stage, uplift in zip(want["stage"], want["conversion_uplift"], strict=True):
        assert app.slider(key=funnel_key(scenario, stage)).value == uplift
    shown = _funnel(app)
    assert list(shown["stage"]) == list(want["stage"])
    for column in FUNNEL_FIGURES:
        assert np.allclose(shown[column], want[column], rtol=1e-12, atol=0), column
    metrics = {metric.label: metric for metric in app.metric}
    rate = want["projected_follow_up_completion_rate"].iloc[0]
    assert metrics["Follow-up completion rate"].value == f"{rate:.2%}"

    # a better first stage means more patients complete the pathway
    first = want["stage"].iloc[0]
    app.slider(key=funnel_key(scenario, first)).set_value(float(want["conversion_uplift"].iloc[0]) + 0.1).run()
    better = _funnel(app)
    assert better["projected_follow_up_completion_rate"].iloc[0] > rate
    assert better["projected_patients_completed"].iloc[-1] > want["projected_patients_completed"].iloc[-1]


def test_funnel_what_if_refuses_an_unknown_stage_and_a_bad_uplift(ml_session_warehouse: Path) -> None:
    with snapshot(read_only_engine(ml_session_warehouse)) as connection:
        with pytest.raises(ValueError, match="unknown stage 'screenin'"):
            queries.funnel_what_if(connection, {"screenin": 0.05})
        with pytest.raises(ValueError, match=re.escape("the uplift of stage 'screening' must be from -1 to 1")):
            queries.funnel_what_if(connection, {"screening": 1.5})


def test_churn_drivers_filters_are_the_marts_rows(app: AppTest, ml_session_warehouse: Path) -> None:
    _open(app, "Churn drivers")
    expected_dimensions = query(
        ml_session_warehouse, "select distinct dimension from marts.churn_drivers where dimension <> 'overall'"
    ).dimension
    assert sorted(app.multiselect(key="churn_dimensions").options) == sorted(expected_dimensions)
    app.multiselect(key="churn_dimensions").set_value(["location_type"]).run()
    app.number_input(key="churn_min_patients").set_value(20).run()
    shown = app.dataframe[0].value
    expected = query(
        ml_session_warehouse,
        "select dimension_value, churn_rate from marts.churn_drivers "
        "where dimension = 'location_type' and patients >= 20 order by dimension_value",
    )
    assert set(shown["dimension"]) == {"location_type"}
    got = shown.sort_values("dimension_value")[["dimension_value", "churn_rate"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)

    app.checkbox(key="churn_only_significant").check().run()
    significant = app.dataframe[0].value
    assert len(significant) <= len(shown)
    outside = (significant.churn_rate_ci_low > significant.overall_churn_rate) | (
        significant.churn_rate_ci_high < significant.overall_churn_rate
    )
    assert outside.all()


def test_worklist_filters_sorts_and_downloads_every_matching_row_as_csv(
    app: AppTest, ml_session_warehouse: Path
) -> None:
    _open(app, "Outreach worklist")
    bands = app.multiselect(key="worklist_bands")
    assert sorted(bands.options) == sorted(
        query(ml_session_warehouse, "select distinct churn_risk_band from marts.outreach_priority").churn_risk_band
    )
    band = bands.options[0]
    bands.set_value([band]).run()
    app.selectbox(key="worklist_sort").set_value("churn_probability").run()
    app.checkbox(key="worklist_descending").check().run()
    shown = app.dataframe[0].value
    expected = query(
        ml_session_warehouse,
        f"select patient_id, churn_probability from marts.outreach_priority where churn_risk_band = '{band}' "
        "order by churn_probability desc, priority_rank",
    )
    assert len(expected) > 0
    assert list(shown["patient_id"]) == list(expected["patient_id"])[: len(shown)]
    assert shown["churn_probability"].is_monotonic_decreasing

    # The download is the CSV of every matching row (its media id is the hash of the bytes).
    with snapshot(read_only_engine(ml_session_warehouse)) as connection:
        rows, total = queries.worklist(
            connection, queries.WorklistFilter(risk_bands=(band,), sort_by="churn_probability", descending=True)
        )
    assert total == len(rows) == len(expected)
    payload = worklist_csv(rows)
    assert payload.decode().splitlines()[0] == ",".join(queries.WORKLIST_COLUMNS)
    button = app.get("download_button")[0]
    assert button.proto.label == "Download CSV"
    assert button.proto.url.endswith(_calculate_file_id(payload, "text/csv", "outreach_worklist.csv") + ".csv")
    back = pd.read_csv(pd.io.common.BytesIO(payload))
    assert list(back["patient_id"]) == list(expected["patient_id"])


def test_worklist_refuses_an_unknown_sort_column(ml_session_warehouse: Path) -> None:
    with snapshot(read_only_engine(ml_session_warehouse)) as connection, pytest.raises(ValueError, match="cannot sort"):
        queries.worklist(connection, queries.WorklistFilter(sort_by="patient_id; drop table x"))


def test_providers_page_filters_by_segment(app: AppTest, ml_session_warehouse: Path) -> None:
    _open(app, "Providers")
    segments = query(ml_session_warehouse, "select segment from marts.segment_roi order by segment_priority").segment
    assert list(app.dataframe[0].value["segment"]) == list(segments)
    top20 = query(
        ml_session_warehouse,
        "select cumulative_revenue_share as s from marts.provider_revenue_concentration where provider_percentile = 20",
    ).s[0]
    assert f"The top 20% of providers bring {top20:.1%} of revenue." in [m.value for m in app.markdown]
    segment = segments[0]
    app.multiselect(key="providers_segment").set_value([segment]).run()
    listed = app.dataframe[1].value
    expected = query(
        ml_session_warehouse, f"select count(*) as n from marts.provider_segments where segment = '{segment}'"
    ).n[0]
    assert set(listed["segment"]) == {segment} and len(listed) == min(expected, 200)


def test_missing_warehouse_is_one_plain_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREPULSE_DB", str(tmp_path / "absent.duckdb"))
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"no warehouse at {tmp_path / 'absent.duckdb'}: run `carepulse build` first"]
    result = subprocess.run(
        [sys.executable, "-m", "carepulse", "app", "--db", str(tmp_path / "absent.duckdb")],
        check=False,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"carepulse: app failed: no warehouse at {tmp_path / 'absent.duckdb'}: run `carepulse build` first"
    )


# --- a real server in a real browser ------------------------------------------------------


def _serving(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(ml_session_warehouse: Path, tmp_path: Path) -> Iterator[str]:
    """`carepulse app` serving the session warehouse on a free loopback port; stopped after the test."""
    port = _free_port()
    log = (tmp_path / "app.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "carepulse", "app", "--db", str(ml_session_warehouse), "--port", str(port)],
        cwd=PROJECT_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "app.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the app did not answer its health check in 120 s"
            time.sleep(0.5)
        yield url
    finally:
        # `carepulse app` execs the server, so Ctrl-C (SIGINT) to it stops Streamlit, no orphan left.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
            raise AssertionError("the server did not stop on SIGINT") from None
        finally:
            log.close()
    assert not _serving(port), "the server outlived `carepulse app`"


class _DevTools:
    """Just enough of the Chrome DevTools Protocol to load a page, read it and take a screenshot.

    Why not `chromium --dump-dom/--screenshot`: those capture at the load event, and a
    Streamlit page is drawn later, from what the server sends over its websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._last_id = 0

    def call(self, method: str, **params: object) -> dict:
        self._last_id += 1
        self._socket.send(json.dumps({"id": self._last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=60))
            if message.get("id") == self._last_id:
                assert "error" not in message, message
                return message.get("result", {})

    def text(self) -> str:
        return self.call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)["result"].get(
            "value", ""
        )

    def wait_for(self, *texts: str, seconds: float = 120) -> str:
        deadline = time.monotonic() + seconds
        while True:
            shown = self.text()
            if all(text in shown for text in texts):
                return shown
            assert time.monotonic() < deadline, f"never showed {texts}: {shown[-2000:]}"
            time.sleep(0.5)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[_DevTools]:
    """Headless Chromium with a DevTools port on the loopback, on a blank page."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed (run `make browser`, which installs Debian's chromium with apt-get)")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1400,1000",
            "--remote-debugging-address=127.0.0.1",
            f"--remote-debugging-port={port}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as response:
                    pages = [target for target in json.load(response) if target["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.2)
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as socket:
            yield _DevTools(socket)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_running_app_renders_in_headless_chromium(
    served: str, browser: _DevTools, ml_session_warehouse: Path, tmp_path: Path
) -> None:
    browser.call("Page.enable")
    browser.call("Page.navigate", url=served)
    as_of = query(ml_session_warehouse, "select cast(as_of_date as varchar) as d from marts.as_of_date").d[0]
    # the sidebar's page links render after the page's first figures: wait for them too
    shown = browser.wait_for(
        "Key figures", f"As of {as_of}", "Active patients and revenue per month", "Outreach worklist"
    )
    assert "Error" not in shown
    time.sleep(1)  # let the charts draw
    screenshot = tmp_path / "app.png"
    screenshot.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"]))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 30_000
    if os.environ.get("CAREPULSE_KEEP_SCREENSHOT"):
        shutil.copy2(screenshot, os.environ["CAREPULSE_KEEP_SCREENSHOT"])

    # A person clicks the worklist page: the rows come from the published warehouse.
    browser.call(
        "Runtime.evaluate",
        expression="[...document.querySelectorAll('label')].find(l => l.innerText.trim() === 'Outreach worklist')"
        ".click()",
    )
    total = query(ml_session_warehouse, "select count(*) as n from marts.outreach_priority").n[0]
    browser.wait_for(f"{total} patients match", "Download CSV")
