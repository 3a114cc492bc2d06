"""Composite bubble-risk score, 0-100, for the AI cohort today and the dot-com
cohort through 1995-2003.

Every component is one stored indicator series mapped linearly onto 0-100
between a documented ``lo`` (score 0) and ``hi`` (score 100), clipped:

==================  ====  ===================================================  ======  ======
component           wt    input                                                lo      hi
==================  ====  ===================================================  ======  ======
runup               0.20  two-year return of the cohort basket (runup)          0       1.5
psy                 0.20  share of cohort members with BSADF > 95% CV (psy)     0       1
lppls               0.10  mean positive-bubble confidence of members (lppls)   0       0.5
vol                 0.10  63-day realised volatility of the basket (regime)    0.15    0.60
regime              0.05  crash-regime probability of the basket (regime)      0       1
valuation           0.15  mean P/E and P/S percentile of members (valuation)   0       1
capex               0.10  hyperscaler capex TTM growth y/y (capex)             0       0.6
earnings_quality    0.05  NVIDIA DSO change y/y, days (earnings_quality)       0       15
revenue_gap         0.05  share of required AI revenue not covered (gap)       0.5     1
==================  ====  ===================================================  ======  ======

The score is the weighted mean of the components available on each day
(weights renormalised; ``coverage`` is the share of weight present), so it
works with whichever indicators have data and ``meta`` names the missing ones.
Quarterly inputs (capex, earnings quality, revenue gap) count from 45 days
after the quarter ends, roughly when they are filed. The dot-com cohort has no
fundamentals before XBRL, so ``score_common`` uses only the price-based
components (runup, psy, lppls, vol, regime) for both cohorts: that is the
like-for-like comparison of today against March 2000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.registry import (
    Column,
    ComputeContext,
    DataSource,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe


@dataclass(frozen=True, slots=True)
class Component:
    """One score component: ``weight`` and the linear map ``lo -> 0``, ``hi -> 100``."""

    name: str
    weight: float
    lo: float
    hi: float
    source: str
    rule: str


COMPONENTS: tuple[Component, ...] = (
    Component("runup", 0.20, 0.0, 1.5, "runup.ret_2y of the cohort basket",
              "0 at a flat two years, 100 at +150% (GSY's 100% flag scores 67)"),
    Component("psy", 0.20, 0.0, 1.0, "psy.bsadf > psy.cv95, share of cohort members",
              "share of members in an explosive (PSY) episode x 100"),
    Component("lppls", 0.10, 0.0, 0.5, "lppls.pos_conf, mean over cohort members",
              "0 at no qualified positive-bubble fits, 100 at half of the windows"),
    Component("vol", 0.10, 0.15, 0.60, "regime.realised_vol of the cohort basket",
              "0 at 15% annualised volatility, 100 at 60%"),
    Component("regime", 0.05, 0.0, 1.0, "regime.crash_prob of the cohort basket",
              "crash-regime probability x 100"),
    Component("valuation", 0.15, 0.0, 1.0, "valuation.pe_pctile and ps_pctile, member mean",
              "own-history valuation percentile x 100"),
    Component("capex", 0.10, 0.0, 0.6, "capex.capex_ttm_yoy of the hyperscalers total",
              "0 at flat capex, 100 at +60% y/y"),
    Component("earnings_quality", 0.05, 0.0, 15.0, "earnings_quality.dso_yoy of the vendor",
              "0 at unchanged DSO, 100 at +15 days y/y"),
    Component("revenue_gap", 0.05, 0.5, 1.0, "revenue_gap.gap_share",
              "0 when half the required AI revenue is covered, 100 when none is"),
)
COMMON = ("runup", "psy", "lppls", "vol", "regime")
#: People's names of the components (dashboard bars, alerts, export headers).
COMPONENT_LABELS: dict[str, str] = {
    "runup": "Two-year run-up", "psy": "Explosive price episodes (PSY)",
    "lppls": "LPPLS bubble confidence", "vol": "Volatility", "regime": "Crash-regime probability",
    "valuation": "Valuation against own history", "capex": "Capex growth",
    "earnings_quality": "Receivables drift (DSO)", "revenue_gap": "AI revenue gap",
}

#: Risk bands of the score: the lower edges of every band but the first, and the
#: band names. The dashboard and the default ``composite-ai-band`` alert rule use them.
SCORE_BAND_EDGES: tuple[float, ...] = (20.0, 40.0, 60.0, 80.0)
SCORE_BAND_LABELS: tuple[str, ...] = ("low", "moderate", "elevated", "high", "extreme")
COHORTS = {"ai": "ai_basket", "dotcom": "dotcom_basket"}


def scale(x: pd.Series, lo: float, hi: float) -> pd.Series:
    """Linear map of ``x`` onto 0-100 between ``lo`` and ``hi``, clipped."""
    return (100.0 * (x.astype(float) - lo) / (hi - lo)).clip(0.0, 100.0)


def score_band(score: float) -> str:
    """The band name of a 0-100 score (:data:`SCORE_BAND_LABELS`); ``"no reading"`` for NaN."""
    if not np.isfinite(score):
        return "no reading"
    return SCORE_BAND_LABELS[int(np.searchsorted(SCORE_BAND_EDGES, score, side="right"))]


def weighted_score(components: pd.DataFrame, weights: Mapping[str, float]
                   ) -> tuple[pd.Series, pd.Series]:
    """Weighted mean of the available columns per row, and the weight coverage."""
    cols = [c for c in components.columns if c in weights]
    if not cols:
        empty = pd.Series(np.nan, index=components.index)
        return empty, empty
    w = pd.Series({c: weights[c] for c in cols})
    vals = components[cols]
    present = vals.notna()
    wsum = (present * w).sum(axis=1)
    score = (vals.fillna(0.0) * w).sum(axis=1) / wsum.where(wsum > 0)
    return score, wsum / float(sum(weights.values()))


class CachedResults:
    """A :class:`DataSource` wrapper that reads each stored (indicator, key) once."""

    def __init__(self, source: DataSource):
        self._source = source
        self._results: dict[tuple[str, str], pd.DataFrame] = {}

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        if (name, key) not in self._results:
            self._results[(name, key)] = self._source.indicator(name, key)
        return self._results[(name, key)]

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._source, attr)


def _field(source: DataSource, name: str, key: str, field: str) -> pd.Series:
    df = source.indicator(name, key)
    if df is None or df.empty or field not in df.columns:
        return pd.Series(dtype=float)
    s = df[field].astype(float)
    s.index = pd.DatetimeIndex(s.index)
    return s.dropna()


def _daily(s: pd.Series, index: pd.DatetimeIndex, lag_days: int = 0,
           max_age_days: int | None = None) -> pd.Series:
    """Step series known from ``date + lag_days``, carried forward onto ``index``
    (for at most ``max_age_days`` when given)."""
    if s.empty:
        return pd.Series(np.nan, index=index)
    s = s.copy()
    s.index = s.index + pd.Timedelta(days=lag_days)
    s = s[~s.index.duplicated(keep="last")]
    out = s.reindex(s.index.union(index)).ffill()
    if max_age_days is not None:
        when = pd.Series(s.index, index=s.index).reindex(out.index).ffill()
        age = (out.index - pd.DatetimeIndex(when)).days
        out = out.where(age <= max_age_days)
    return out.reindex(index)


def component_frame(source: DataSource, universe: Universe, cohort: str,
                    index: pd.DatetimeIndex, *, lag_days: int = 45,
                    vendor: str = "NVDA") -> tuple[pd.DataFrame, dict[str, str]]:
    """Every available component of ``cohort`` on ``index`` (0-100 each) and a
    note per component that had no data."""
    basket = COHORTS[cohort]
    members = list(universe.baskets.get(basket, ()))
    rules = {c.name: c for c in COMPONENTS}
    comps: dict[str, pd.Series] = {}
    missing: dict[str, str] = {}

    def put(name: str, raw: pd.Series, why: str) -> None:
        if raw.notna().any():
            c = rules[name]
            comps[name] = scale(raw, c.lo, c.hi)
        else:
            missing[name] = why

    put("runup", _daily(_field(source, "runup", basket, "ret_2y"), index, max_age_days=10),
        f"no runup results for {basket}")
    flags = []
    for m in members:
        df = source.indicator("psy", m)
        if df is not None and not df.empty and {"bsadf", "cv95"} <= set(df.columns):
            x = (df["bsadf"] > df["cv95"]).astype(float).where(df["bsadf"].notna()
                                                                 & df["cv95"].notna())
            x.index = pd.DatetimeIndex(x.index)
            flags.append(_daily(x.dropna(), index, max_age_days=10))
    put("psy", pd.concat(flags, axis=1).mean(axis=1) if flags else pd.Series(dtype=float),
        "no psy results (bsadf, cv95) for the cohort's members")
    confs = [_daily(_field(source, "lppls", m, "pos_conf"), index, max_age_days=10)
             for m in members]
    confs = [c for c in confs if c.notna().any()]
    put("lppls", pd.concat(confs, axis=1).mean(axis=1) if confs else pd.Series(dtype=float),
        "no lppls results (pos_conf) for the cohort's members")
    put("vol", _daily(_field(source, "regime", basket, "realised_vol"), index, max_age_days=10),
        f"no regime results for {basket}")
    put("regime", _daily(_field(source, "regime", basket, "crash_prob"), index, max_age_days=10),
        f"no regime crash probability for {basket}")
    pct = [_daily(_field(source, "valuation", m, f), index, max_age_days=10)
           for m in members for f in ("pe_pctile", "ps_pctile")]
    pct = [p for p in pct if p.notna().any()]
    put("valuation", pd.concat(pct, axis=1).mean(axis=1) if pct else pd.Series(dtype=float),
        "no point-in-time valuation for the cohort's members (no EDGAR facts; the dot-com "
        "era pre-dates XBRL)")
    if cohort == "ai":
        put("capex", _daily(_field(source, "capex", "hyperscalers", "capex_ttm_yoy"), index,
                            lag_days, max_age_days=200), "no hyperscaler capex results")
        put("earnings_quality", _daily(_field(source, "earnings_quality", vendor, "dso_yoy"),
                                       index, lag_days, max_age_days=200),
            f"no earnings_quality results for {vendor}")
        put("revenue_gap", _daily(_field(source, "revenue_gap", vendor, "gap_share"), index,
                                  lag_days, max_age_days=200), "no revenue_gap results")
    else:
        for name in ("capex", "earnings_quality", "revenue_gap"):
            missing[name] = ("no dot-com series: carrier capex, Cisco receivables and AI "
                             "revenue have no quarterly history in the reference table")
    frame = pd.DataFrame(comps, index=index)
    return frame, missing


def score_frame(components: pd.DataFrame) -> pd.DataFrame:
    """``score``, ``score_common``, ``coverage`` and ``c_<name>`` columns."""
    weights = {c.name: c.weight for c in COMPONENTS}
    score, coverage = weighted_score(components, weights)
    common, _ = weighted_score(components[[c for c in components.columns if c in COMMON]],
                               {k: weights[k] for k in COMMON})
    out = pd.DataFrame({"score": score, "score_common": common, "coverage": coverage},
                       index=components.index)
    for c in components.columns:
        out[f"c_{c}"] = components[c]
    return out.dropna(subset=["score"])


def _dates(source: DataSource, universe: Universe, cohort: str, start: date,
           end: date | None) -> pd.DatetimeIndex:
    df = source.indicator("runup", COHORTS[cohort])
    if df is None or df.empty:
        df = source.indicator("regime", COHORTS[cohort])
    if df is None or df.empty:
        market = source.prices(universe.market_index)
        idx = pd.DatetimeIndex(market.index) if market is not None else pd.DatetimeIndex([])
    else:
        idx = pd.DatetimeIndex(df.index)
    idx = idx[idx >= pd.Timestamp(start)]
    if end:
        idx = idx[idx <= pd.Timestamp(end)]
    return idx.sort_values().unique()


def cohort_scores(source: DataSource, universe: Universe, cohort: str,
                  params: CompositeParams) -> tuple[pd.DataFrame, dict[str, str]]:
    window = params.ai_window if cohort == "ai" else params.dotcom_window
    index = _dates(source, universe, cohort, window[0], window[1])
    comps, missing = component_frame(source, universe, cohort, index,
                                     lag_days=params.report_lag_days, vendor=params.vendor)
    return score_frame(comps), missing


class CompositeParams(Params):
    """Parameters of the composite score."""

    ai_window: tuple[date, date | None] = Field(
        (date(2010, 1, 1), None), description="dates scored for the AI cohort (end None: today)")
    dotcom_window: tuple[date, date | None] = Field(
        (date(1995, 1, 1), date(2003, 12, 31)), description="dates scored for the dot-com "
        "cohort")
    dotcom_peak_date: date = Field(date(2000, 3, 10), description="the dot-com reading shown "
                                   "beside today's (Nasdaq Composite peak close)")
    report_lag_days: int = Field(45, ge=0, description="days after a quarter's end before its "
                                 "figures count (roughly when they are filed)")
    vendor: str = Field("NVDA", description="the AI vendor whose DSO and revenue gap are scored")


class ComponentRule(BaseModel):
    """How one component's input maps onto 0-100."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lo: float
    hi: float
    input: str
    rule: str


class Reading(BaseModel):
    """The score and its components on one date."""

    model_config = ConfigDict(frozen=True, extra="allow")

    date: date


class ScoreOnDate(BaseModel):
    """A score and the date it was reached."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    score: float


class CompositeMeta(Meta):
    """What is stored beside each cohort's composite score."""

    weights: dict[str, float]
    rules: dict[str, ComponentRule]
    common_components: list[str]
    missing_components: dict[str, str]
    peak_reading: Reading | None = None
    max_score: ScoreOnDate | None = None
    dotcom_peak_reading: Reading | None = None
    latest: Reading | None = None


def _reading(frame: pd.DataFrame, when: pd.Timestamp) -> Reading | None:
    sub = frame[frame.index <= when]
    if sub.empty:
        return None
    row = sub.iloc[-1]
    return Reading(date=sub.index[-1].date(),
                   **{k: (None if pd.isna(v) else float(v)) for k, v in row.items()})


def compute(ctx: ComputeContext, key: str,
            params: CompositeParams) -> IndicatorResult[CompositeMeta]:
    if key not in COHORTS:
        raise ValueError(f"composite keys are {', '.join(COHORTS)}, not {key!r}")
    source = CachedResults(ctx.source)
    frame, missing = cohort_scores(source, ctx.universe, key, params)
    fields: dict[str, Any] = {
        "weights": {c.name: c.weight for c in COMPONENTS},
        "rules": {c.name: ComponentRule(lo=c.lo, hi=c.hi, input=c.source, rule=c.rule)
                  for c in COMPONENTS},
        "common_components": list(COMMON),
        "missing_components": missing,
    }
    peak_day = pd.Timestamp(params.dotcom_peak_date)
    if key == "dotcom":
        fields["peak_reading"] = _reading(frame, peak_day)
        if not frame.empty:
            fields["max_score"] = ScoreOnDate(date=frame["score"].idxmax().date(),
                                              score=float(frame["score"].max()))
    else:
        dot, _ = cohort_scores(source, ctx.universe, "dotcom", params)
        fields["dotcom_peak_reading"] = _reading(dot, peak_day)
    if not frame.empty:
        fields["latest"] = _reading(frame, frame.index[-1])
    return IndicatorResult(frame, CompositeMeta(**fields))


def composite_keys(universe: Universe) -> Sequence[str]:
    return [k for k, b in COHORTS.items() if b in universe.baskets]


INDICATOR = Indicator(
    name="composite",
    title="Composite bubble-risk score",
    description=(
        "One 0-100 reading from run-up, PSY explosiveness, LPPLS confidence, volatility, "
        "crash-regime probability, valuation percentiles, capex growth, DSO drift and the "
        "Sequoia revenue gap; each component mapped linearly between documented bounds and "
        "weighted transparently. Computed for the AI cohort and, over 1995-2003, for the "
        "dot-com cohort, so today's reading sits beside March 2000."
    ),
    columns={
        "score": Column("Bubble-risk score", "score 0-100",
                        "weighted mean of the available components"),
        "score_common": Column("Bubble-risk score, like for like", "score 0-100",
                               "the same over the price-based components both cohorts have"),
        "coverage": Column("Coverage", "fraction 0-1",
                           "share of the total weight whose component had data"),
        **{f"c_{c.name}": Column(COMPONENT_LABELS[c.name], "score 0-100",
                                 f"{c.rule}; weight {c.weight:.2f} of the score")
           for c in COMPONENTS},
    },
    params=CompositeParams,
    meta=CompositeMeta,
    keys=composite_keys,
    compute=compute,
    page="",
    sampling="the dates of the cohort basket's run-up series (daily recently, weekly before)",
    depends_on=("runup", "regime", "valuation", "capex", "earnings_quality", "revenue_gap",
                "psy", "lppls"),
)
