"""Feature specifications and the row-wise transforms that are not set-based.

Why split this way: the warehouse (models/marts/ml) computes everything that needs joins
over history as of a cutoff or a call time; what is left are per-row transforms (rates,
trends, log scales, "how surprising is this silence"). They are pure functions of one
row, so they cannot leak information across rows or time, and they run inside the fitted
sklearn pipeline so training and scoring can never disagree about them.

Which columns are features is declared once, in the ML marts' YAML (`meta.feature` and
`meta.transform` on the columns, `meta.ml_model` on the model), and read from there: the
SQL, the dbt docs and the models cannot disagree about the list. The YAML file rather than
target/manifest.json (absent in a fresh clone until dbt parses) or a table in the warehouse
(not there before the first build, and the spec is needed to load a model): the file ships
with the code, and the marts' enforced contract makes the built tables match it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

#: The YAML that declares the ML marts and their feature columns.
FEATURE_MARTS_YAML = Path(__file__).resolve().parent.parent / "models" / "marts" / "ml" / "_ml__models.yml"

#: meta.feature values, and the meta.transform values a numeric feature may carry:
#: log_count is log(1 + x) of a count or amount; log_days_since is the same of a
#: days-since value whose null ("never") counts as NEVER_DAYS.
FEATURE_KINDS = ("categorical", "numeric")
TRANSFORMS = ("log_count", "log_days_since")

#: Stand-in for "never happened" in days-since columns: longer than any history.
NEVER_DAYS = 1000.0


class FeatureDeclarationError(ValueError):
    """The ML marts' YAML does not declare a usable feature list."""


@dataclass(frozen=True)
class FeatureSpec:
    """The raw columns a model reads, in declaration order; derived ones are built by its derive function."""

    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    log_count: tuple[str, ...] = ()
    log_days_since: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [*self.categorical, *self.numeric]


def parse_feature_spec(document: dict, ml_model: str, source: str = "<yaml>") -> FeatureSpec:
    """The feature spec of `ml_model` from a dbt models YAML document (pure, for tests).

    Features are the columns with meta.feature of the model whose meta.ml_model is
    ml_model; anything malformed is an error naming the file, model, column and rule.
    """
    categorical: list[str] = []
    numeric: list[str] = []
    transforms: dict[str, list[str]] = {name: [] for name in TRANSFORMS}
    models = [m for m in document.get("models") or [] if (m.get("meta") or {}).get("ml_model") == ml_model]
    for model in models:
        for column in model.get("columns") or []:
            meta = column.get("meta") or {}
            where = f"{source}: model {model.get('name')}, column {column.get('name')}"
            kind = meta.get("feature")
            if kind is None:
                if "transform" in meta:
                    raise FeatureDeclarationError(f"{where}: meta.transform without meta.feature")
                continue
            if kind not in FEATURE_KINDS:
                raise FeatureDeclarationError(f"{where}: meta.feature must be one of {FEATURE_KINDS}, not {kind!r}")
            (categorical if kind == "categorical" else numeric).append(column["name"])
            transform = meta.get("transform")
            if transform is not None:
                if kind != "numeric" or transform not in TRANSFORMS:
                    raise FeatureDeclarationError(
                        f"{where}: meta.transform must be one of {TRANSFORMS} on a numeric feature, not {transform!r}"
                    )
                transforms[transform].append(column["name"])
    if not categorical and not numeric:
        raise FeatureDeclarationError(
            f"{source}: no model with meta.ml_model {ml_model!r} declares a meta.feature column"
        )
    return FeatureSpec(
        tuple(categorical), tuple(numeric), tuple(transforms["log_count"]), tuple(transforms["log_days_since"])
    )


@cache
def load_feature_spec(ml_model: str, path: Path = FEATURE_MARTS_YAML) -> FeatureSpec:
    """The feature spec of `ml_model` as declared in the ML marts' YAML file."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as error:
        raise FeatureDeclarationError(f"cannot read the feature declarations {path}: {error}") from error
    return parse_feature_spec(document or {}, ml_model, str(path))


CHURN_SPEC = load_feature_spec("churn")
ENGAGEMENT_SPEC = load_feature_spec("engagement")


def _require(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """A declared feature missing from the frame is a stale warehouse, said plainly."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(
            f"feature column(s) {', '.join(missing)} declared in {FEATURE_MARTS_YAML} are not in the data: "
            "rebuild the warehouse with `dbt build`"
        )


def _numbers(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The columns as float arrays (nulls as NaN)."""
    _require(frame, columns)
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in columns}


def _categorical_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Categoricals as plain object strings ('missing' for nulls), one dtype for every encoder."""
    _require(frame, columns)
    out = {}
    for column in columns:
        # text per distinct value, not per row: ten times faster on large frames, and
        # still row-wise (each row maps through its own value only)
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        labels = np.array([str(u) for u in uniques] + ["missing"], dtype=object)
        out[column] = labels[codes]  # code -1 (null) picks the trailing "missing"
    return out


def _assemble(index: pd.Index, categorical: dict[str, np.ndarray], numeric: dict[str, np.ndarray]) -> pd.DataFrame:
    """One DataFrame built at once (column-by-column inserts are slow in pandas)."""
    data: dict[str, np.ndarray] = {**categorical, **{k: np.asarray(v, dtype=float) for k, v in numeric.items()}}
    return pd.DataFrame(data, index=index)


def derive_churn_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready churn columns from one row of marts.patient_features_by_cutoff.

    Beyond log scales, the columns that matter most are rates and surprise: a patient's
    event rate (lifetime and recent, over the part of the window they were enrolled),
    the recent trend, and days_inactive times the rate, i.e. how many events the silence
    has "missed". A long silence from a frequent user is strong evidence of churn; the
    same silence from a rare user is not. Linear models need that product spelt out.
    """
    num = _numbers(frame, CHURN_SPEC.numeric)
    tenure = np.clip(num["tenure_days"], 0, None) + 1.0
    inactive = np.clip(num["days_inactive"], 0, None)
    rate_life = np.nan_to_num(num["events_total"]) / tenure
    rate_180 = np.nan_to_num(num["events_180d"]) / np.minimum(tenure, 180.0)
    rate_90 = np.nan_to_num(num["events_90d"]) / np.minimum(tenure, 90.0)
    rate_30 = np.nan_to_num(num["events_30d"]) / np.minimum(tenure, 30.0)
    out: dict[str, np.ndarray] = {
        "age_years": np.where(np.isnan(num["age_years"]), 55.0, num["age_years"]),
        "log_tenure_days": np.log1p(tenure),
        "days_inactive": inactive,
        "log_days_inactive": np.log1p(inactive),
    }
    for column in CHURN_SPEC.log_count:
        out[f"log_{column}"] = np.log1p(np.clip(np.nan_to_num(num[column]), 0, None))
    out.update(
        rate_lifetime=rate_life,
        rate_180d=rate_180,
        rate_90d=rate_90,
        rate_30d=rate_30,
        log_rate_90d=np.log(rate_90 + 0.01),
        trend_30_vs_90=np.log((rate_30 + 0.01) / (rate_90 + 0.01)),
        trend_90_vs_life=np.log((rate_90 + 0.01) / (rate_life + 0.01)),
        missed_events_lifetime_rate=inactive * rate_life,
        missed_events_90d_rate=inactive * rate_90,
        stages_entered=np.nan_to_num(num["stages_entered"]),
        stages_open=np.nan_to_num(num["stages_entered"] - num["stages_completed"]),
        furthest_stage=np.nan_to_num(num["furthest_stage"]),
    )
    for column in CHURN_SPEC.log_days_since:
        days = np.where(np.isnan(num[column]), NEVER_DAYS, num[column])
        out[f"log_{column}"] = np.log1p(np.clip(days, 0, None))
    month = np.where(np.isnan(num["cutoff_month"]), 1.0, num["cutoff_month"])
    out["season_cos"] = np.cos(2 * np.pi * (month - 1) / 12)
    out["season_sin"] = np.sin(2 * np.pi * (month - 1) / 12)
    return _assemble(frame.index, _categorical_text(frame, CHURN_SPEC.categorical), out)


def derive_engagement_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Model-ready engagement columns from one row of marts.outreach_call_features.

    Hour and weekday are categories, not numbers: answer rates peak late morning and early
    evening, which no monotone term can express. Prior engagement is also given capped
    (a member's habit saturates) and as a smoothed rate.
    """
    num = _numbers(frame, ENGAGEMENT_SPEC.numeric)
    prior_engaged = np.nan_to_num(num["prior_engaged_calls"])
    out: dict[str, np.ndarray] = {
        "age_years": np.where(np.isnan(num["age_years"]), 55.0, num["age_years"]),
        "log_tenure_days": np.log1p(np.clip(np.nan_to_num(num["tenure_days"]), 0, None)),
    }
    for column in ENGAGEMENT_SPEC.log_count:
        out[f"log_{column}"] = np.log1p(np.clip(np.nan_to_num(num[column]), 0, None))
    out["prior_engaged_capped"] = np.minimum(prior_engaged, 3.0)
    out["prior_engage_rate"] = (prior_engaged + 0.3) / (np.nan_to_num(num["prior_calls"]) + 1.0)
    out["last_call_engaged"] = np.nan_to_num(num["last_call_engaged"])
    for column in ENGAGEMENT_SPEC.log_days_since:
        days = np.where(np.isnan(num[column]), NEVER_DAYS, num[column])
        out[f"log_{column}"] = np.log1p(np.clip(days, 0, None))
    return _assemble(frame.index, _categorical_text(frame, ENGAGEMENT_SPEC.categorical), out)
