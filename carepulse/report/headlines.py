"""The headline numbers written out on the page, each taken from a mart or ml table.

Why a list of records: the page prints each one as text and also carries its exact value
(a data-value attribute and one JSON block), so a test, or a reader, can check every
printed number against SQL on the warehouse. Nothing here is typed in: each value is read
from ReportData, i.e. from the queries in data.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import curves, style
from .data import ReportData
from .figures_decisions import CONCENTRATION_MARK

#: Contact shares at which the outreach lift is quoted.
LIFT_SHARES = (0.1, 0.2, 0.3)


@dataclass(frozen=True)
class Headline:
    key: str
    group: str
    label: str
    value: float | int | str
    text: str
    source: str
    detail: str = ""


def _rate(engaged: int, attempts: int) -> float:
    return engaged / attempts if attempts else float("nan")


def data_scale(data: ReportData) -> list[Headline]:
    s = data.scale
    rows = [
        ("patients", "Patients", s["patients"], "marts.dim_patients"),
        ("engagement_events", "Engagement events", s["engagement_events"], "marts.fct_engagement_events"),
        ("claims", "Claims", s["claims"], "marts.fct_claims"),
        ("providers", "Providers", s["providers"], "marts.dim_providers"),
        ("outreach_calls", "Outreach calls", s["outreach_calls"], "marts.outreach_performance (sum of attempts)"),
        ("pathway_patients", "Patients on the care pathway", s["pathway_patients"], "marts.care_journey_funnel"),
        ("quarantined_rows", "Raw rows quarantined", data.quarantined_rows, "marts.quarantine_summary"),
    ]
    return [
        Headline(key, "scale", label, int(value), style.fmt_count(value), source) for key, label, value, source in rows
    ]


def patients(data: ReportData) -> list[Headline]:
    out: list[Headline] = []
    overall = data.churn_overall
    if overall:
        rate = float(overall["churn_rate"])
        out.append(
            Headline(
                "churn_rate",
                "patients",
                "Churn rate",
                rate,
                style.fmt_pct(rate),
                "marts.churn_drivers (overall)",
                f"95% CI {style.fmt_pct(float(overall['churn_rate_ci_low']))}–"
                f"{style.fmt_pct(float(overall['churn_rate_ci_high']))}; "
                f"{style.fmt_count(overall['churned_patients'])} of {style.fmt_count(overall['patients'])} patients",
            )
        )
        out.append(
            Headline(
                "churned_patients",
                "patients",
                "Churned patients",
                int(overall["churned_patients"]),
                style.fmt_count(overall["churned_patients"]),
                "marts.churn_drivers (overall)",
            )
        )
    status = dict(zip(data.churn_status["churn_status"], data.churn_status["patients"], strict=False))
    active = int(status.get("active", 0))
    out.append(
        Headline(
            "active_patients",
            "patients",
            "Active patients",
            active,
            style.fmt_count(active),
            "marts.patient_churn (churn_status = active)",
        )
    )
    conditions = data.churn_drivers[data.churn_drivers["dimension"] == "primary_condition"]
    if len(conditions):
        top = conditions.sort_values(["churn_rate", "dimension_value"], ascending=[False, True]).iloc[0]
        relative = top["relative_risk"]
        out.append(
            Headline(
                "highest_churn_condition",
                "patients",
                "Highest-churn condition",
                str(top["dimension_value"]),
                style.pretty(top["dimension_value"], width=80),
                "marts.churn_drivers (primary_condition)",
                f"churn {style.fmt_pct(float(top['churn_rate']))} "
                f"({style.fmt_points(float(top['diff_vs_overall']))} vs overall"
                + (f", relative risk {float(relative):.2f}" if relative is not None and np.isfinite(relative) else "")
                + ")",
            )
        )
        out.append(
            Headline(
                "highest_churn_condition_rate",
                "patients",
                "Churn rate of that condition",
                float(top["churn_rate"]),
                style.fmt_pct(float(top["churn_rate"])),
                "marts.churn_drivers (primary_condition)",
            )
        )
    out.append(
        Headline(
            "engagement_revenue_usd",
            "patients",
            "Engagement revenue (all time)",
            data.engagement_revenue_usd,
            style.fmt_usd(data.engagement_revenue_usd),
            "marts.fct_engagement_events (sum of revenue_usd)",
        )
    )
    month1 = data.cohorts[(data.cohorts["months_since_enrolment"] == 1) & data.cohorts["is_complete_month"]]
    if len(month1) and month1["cohort_size"].sum() > 0:
        value = float(month1["active_patients"].sum() / month1["cohort_size"].sum())
        out.append(
            Headline(
                "month1_retention",
                "patients",
                "Month-1 retention",
                value,
                style.fmt_pct(value),
                "marts.cohort_retention (month 1, complete months, all cohorts pooled)",
                f"{style.fmt_count(month1['active_patients'].sum())} of {style.fmt_count(month1['cohort_size'].sum())}"
                " patients active in the month after enrolment",
            )
        )
    if len(data.funnel):
        last = data.funnel.sort_values("stage_order").iloc[-1]
        value = float(last["cumulative_conversion_rate"])
        out.append(
            Headline(
                "pathway_completion_rate",
                "patients",
                "Care pathway completed",
                value,
                style.fmt_pct(value),
                f"marts.care_journey_funnel ({last['stage']} completed / pathway patients)",
                f"{style.fmt_count(last['patients_completed'])} of {style.fmt_count(last['pathway_patients'])} patients",
            )
        )
    top_rfm = data.rfm_segments.sort_values(["revenue_usd", "rfm_segment"], ascending=[False, True])
    total_rfm = float(data.rfm_segments["revenue_usd"].sum())
    if len(top_rfm) and total_rfm > 0:
        seg = top_rfm.iloc[0]
        share = float(seg["revenue_usd"]) / total_rfm
        out.append(
            Headline(
                "top_rfm_segment",
                "patients",
                "RFM segment with the most revenue",
                str(seg["rfm_segment"]),
                str(seg["rfm_segment"]),
                "marts.patient_rfm",
                f"{style.fmt_count(seg['patients'])} patients, {style.fmt_pct(share)} of RFM-window revenue",
            )
        )
        out.append(
            Headline(
                "top_rfm_segment_revenue_share",
                "patients",
                "Its share of RFM-window revenue",
                share,
                style.fmt_pct(share),
                "marts.patient_rfm (sum of monetary)",
            )
        )
    attempts, engaged = int(data.outreach.get("attempts") or 0), int(data.outreach.get("engaged") or 0)
    if attempts:
        value = _rate(engaged, attempts)
        out.append(
            Headline(
                "outreach_engagement_rate",
                "patients",
                "Outreach engagement rate",
                value,
                style.fmt_pct(value),
                "marts.outreach_performance (sum engaged / sum attempts)",
                f"{style.fmt_count(engaged)} engaged of {style.fmt_count(attempts)} calls",
            )
        )
    return out


def providers(data: ReportData) -> list[Headline]:
    out: list[Headline] = []
    p = data.portfolio
    if p:
        out.append(
            Headline(
                "provider_revenue_usd",
                "providers",
                "Provider revenue (paid claims)",
                float(p["total_revenue"]),
                style.fmt_usd(float(p["total_revenue"])),
                "marts.portfolio_roi",
                f"{style.fmt_count(p['providers'])} providers, {style.fmt_count(p['claim_count'])} claims",
            )
        )
        if p.get("roi") is not None:
            out.append(
                Headline(
                    "portfolio_roi",
                    "providers",
                    "Revenue per $1 of a quarter's visits",
                    float(p["roi"]),
                    style.fmt_ratio(float(p["roi"])),
                    "marts.portfolio_roi (roi)",
                    f"quarterly visit cost {style.fmt_usd(float(p['investment']))}",
                )
            )
    populated = data.segments[data.segments["providers"] > 0]
    if len(populated):
        top = populated.sort_values(["revenue_share", "segment"], ascending=[False, True]).iloc[0]
        out.append(
            Headline(
                "top_provider_segment",
                "providers",
                "Top provider segment by revenue",
                str(top["segment"]),
                str(top["segment"]),
                "marts.segment_roi",
                f"{style.fmt_pct(float(top['provider_share']))} of providers, "
                f"{style.fmt_pct(float(top['revenue_share']))} of revenue",
            )
        )
        out.append(
            Headline(
                "top_provider_segment_revenue_share",
                "providers",
                "Its share of provider revenue",
                float(top["revenue_share"]),
                style.fmt_pct(float(top["revenue_share"])),
                "marts.segment_roi (revenue_share)",
            )
        )
    out += _concentration(data)
    return out


def _concentration(data: ReportData) -> list[Headline]:
    """ "The top 20% of providers bring x% of revenue" (marts.provider_revenue_concentration)."""
    curve = data.recommendations.concentration
    mark = curve[curve["provider_percentile"] == CONCENTRATION_MARK]
    if mark.empty or mark["cumulative_revenue_share"].isna().all():
        return []
    row = mark.iloc[0]
    share = float(row["cumulative_revenue_share"])
    return [
        Headline(
            f"top_{CONCENTRATION_MARK}pct_providers_revenue_share",
            "providers",
            f"Revenue share of the top {CONCENTRATION_MARK}% of providers",
            share,
            style.fmt_pct(share),
            "marts.provider_revenue_concentration",
            f"{style.fmt_count(row['top_providers'])} of {style.fmt_count(row['providers'])} providers",
        )
    ]


def engagement_lift(data: ReportData) -> dict[float, float]:
    """Share of engaged held-out calls among the top k% of calls by P(engaged)."""
    if data.ml is None:
        return {}
    rows = data.ml.holdout[data.ml.holdout["model_name"] == "engagement"]
    labels = rows["label"].astype(int).to_numpy()
    if len(rows) == 0 or labels.sum() == 0:
        return {}
    x, y = curves.gains(labels, rows["probability"].to_numpy(dtype=float))
    return {share: curves.captured_at(x, y, share) for share in LIFT_SHARES}


def _impact(impact: dict) -> list[Headline]:
    """The retention study's projection from marts.intervention_impact: churn of all patients at
    the end of the horizon (churned now + expected churners) without and with the outreach;
    older warehouses without those columns give the rate over the scored patients."""
    source = "marts.intervention_impact"
    contacted = (
        f"top {style.fmt_count(impact['patients_contacted'])} of outreach_priority contacted, "
        f"save rate {style.fmt_pct(float(impact['save_rate']), 0)}"
    )
    if impact.get("overall_churn_rate_without_outreach") is not None:
        without = float(impact["overall_churn_rate_without_outreach"])
        with_outreach = float(impact["overall_churn_rate_with_outreach"])
        population = (
            f"{style.fmt_count(impact['churned_patients'])} churned now + expected churners of "
            f"{style.fmt_count(impact['scored_patients'])} active, over {style.fmt_count(impact['total_patients'])} patients"
        )
        labels = ("Projected churn, no outreach (all patients)", "Projected churn with outreach (all patients)")
    elif impact.get("churn_rate_without_outreach") is not None:
        without = float(impact["churn_rate_without_outreach"])
        with_outreach = float(impact["churn_rate_with_outreach"])
        population = f"{style.fmt_count(impact['scored_patients'])} active patients scored"
        labels = ("Projected churn of active patients, no outreach", "Projected churn of active patients with outreach")
    else:
        return []
    return [
        Headline(
            "projected_churn_without_outreach", "models", labels[0], without, style.fmt_pct(without), source, population
        ),
        Headline(
            "projected_churn_with_outreach",
            "models",
            labels[1],
            with_outreach,
            style.fmt_pct(with_outreach),
            source,
            contacted,
        ),
    ]


def models(data: ReportData) -> list[Headline]:
    if data.ml is None:
        return []
    out: list[Headline] = []
    for run in data.ml.runs.to_dict("records"):
        name = str(run["model_name"])
        out.append(
            Headline(
                f"{name}_run_id",
                "models",
                f"{name.capitalize()} model run",
                str(run["run_id"]),
                str(run["run_id"]),
                "ml.model_runs_current",
                f"{style.pretty(run['estimator'], 80).lower()}, {run['calibration']} calibration",
            )
        )
        if run.get("roc_auc") is not None and np.isfinite(run["roc_auc"]):
            out.append(
                Headline(
                    f"{name}_roc_auc",
                    "models",
                    f"{name.capitalize()} held-out ROC AUC",
                    float(run["roc_auc"]),
                    style.fmt_metric(float(run["roc_auc"])),
                    "ml.model_runs_current",
                    f"{style.fmt_count(run['test_rows'])} held-out examples, "
                    f"{run['test_start']:%Y-%m-%d} to {run['test_end']:%Y-%m-%d}",
                )
            )
    for share, captured in engagement_lift(data).items():
        key = f"engaged_reached_top_{round(share * 100)}pct"
        out.append(
            Headline(
                key,
                "models",
                f"Engaged calls reached by calling the top {share:.0%}",
                captured,
                style.fmt_pct(captured),
                "ml.holdout_predictions_current (engagement)",
                f"random order reaches {share:.0%}",
            )
        )
    impact = data.ml.impact
    if impact:
        out += _impact(impact)
    return out


def all_headlines(data: ReportData) -> list[Headline]:
    return [*data_scale(data), *patients(data), *providers(data), *models(data)]
