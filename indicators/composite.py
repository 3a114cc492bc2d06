"""Composite bubble-risk score: the AI cohort today against the dot-com cohort
in 1995-2003, like for like, with its uncertainty and the provenance of every
component.

Three readings, each a weighted mean of components mapped onto 0-100:

``score`` (the headline)
    The *build-up* components that **both** cohorts have on the compared
    dates (the AI cohort's latest date and the dot-com cohort's
    ``dotcom_peak_date``), with the same definitions on both sides. By
    default that is the run-up, the run-up net of the market and the PSY
    explosiveness share: the price-based evidence the dot-com era has too.
``ai_only`` (the AI-only sub-score)
    The build-up components the AI cohort has and the dot-com cohort does
    not (valuation percentiles, hyperscaler capex growth, NVIDIA's DSO drift,
    the revenue gap, and LPPLS while it is only fitted over the last year):
    shown beside the headline, never folded into it.
``stress``
    Drawdown, volatility and the high-variance state probability. They rise
    in busts as much as in manias, so they are a separate reading of stress
    and never raise the bubble score.

Components (``lo`` maps to 0, ``hi`` to 100, clipped; bounds are in the
transformed unit)

=================  ========  ====  ===========================================  ====================
component          reading   wt    input (transform)                            lo .. hi
=================  ========  ====  ===========================================  ====================
runup              build-up  0.20  basket two-year return r, ln(1 + r)          0 .. ln 11 (+1000%)
runup_net          build-up  0.10  ln((1 + r_price) / (1 + r_market))           0 .. ln 11
psy                build-up  0.20  share of members with BSADF > 95% cv          0 .. 1
lppls              build-up  0.10  mean positive LPPLS confidence of members    0 .. 0.5
valuation          build-up  0.15  mean P/E and P/S own-history percentile      0 .. 1
capex              build-up  0.10  hyperscaler TTM capex growth g, ln(1 + g)    0 .. ln 2 (+100%)
earnings_quality   build-up  0.05  NVIDIA DSO change y/y, days                  0 .. 15
revenue_gap        build-up  0.10  share of required AI revenue not reported    0.5 .. 1
drawdown           stress    0.40  basket drawdown from its running peak, -dd   0 .. 0.5
vol                stress    0.40  63-day realised volatility of the basket     0.15 .. 0.60
high_variance      stress    0.20  high-variance state probability (regime)     0 .. 1
=================  ========  ====  ===========================================  ====================

The run-ups are log-scaled so that they do not saturate where the cohorts
differ most: +69% scores 22, +100% 29, +150% 38, +810% (the dot-com basket
in March 2000) 92; a linear map capped at +150% scored the last two alike.

**Coverage.** Each component carries the share of the cohort it covers on
each date (basket members in the return, members with PSY results, the
hyperscalers in the capex total, the AI-revenue members that reported): its
weight is multiplied by that share, so a partial aggregate counts for what
it covers. A reading's ``coverage`` is the share of its total weight backed
by data. A component without data on a date is stated (``meta``), never
scored as zero.

**Carry-forward and staleness.** Every input is carried forward from the day
it became known (quarterly figures from the filing day, ``days_to_known``;
reference-table figures from their report deadline) with its own as-of date,
until it is older than the component's ``max_age_days``: 10 days for daily
and weekly price statistics, 21 for LPPLS (fitted every 10th trading day),
200 for quarterly fundamentals (a quarter, its filing lag and slack), or 1.5
times the input's own median spacing between stored dates when that is
longer (LPPLS fitted every 20th trading day stays fresh for 42 days). A
low-frequency component therefore never alternates between a value and
missing. ``age_<name>`` (days since its as-of date), ``stale_<name>`` and
``cov_<name>`` are stored per date.

**Composition changes.** ``composition_change`` is 1 on dates where the set
of components in the headline, or their coverage, differs from the previous
date; ``score_change_same_inputs`` is the change of the headline since the
previous date computed only over the components present on both dates, with
today's weights (``ai_only_change_same_inputs`` likewise). The alert engine
uses it to tell a band change caused by data arriving or going stale from a
move of the reading (:mod:`alerts.rules`, ``same_inputs_change_field``).

**Uncertainty.** A seeded Monte Carlo (``mc_draws`` draws, ``mc_seed``) draws
the weights from a Dirichlet distribution centred on the documented weights
(concentration ``mc_concentration``) and moves every bound by up to
``mc_bound_jitter`` of its span; ``score_p05``/``score_p50``/``score_p95``
(and the same for the other readings) are the 5th, 50th and 95th percentiles.
The same draws are applied to both cohorts, so the share of draws in which
the AI headline is below the dot-com peak's is meaningful (``meta``).

References
----------
Greenwood, R., Shleifer, A. and You, Y. (2019), "Bubbles for Fama", Journal of
Financial Economics 131(1), 20-43 (run-ups). Phillips, P. C. B., Shi, S. and
Yu, J. (2015), "Testing for multiple bubbles", International Economic Review
56(4), 1043-1078 (PSY). Sornette, D. et al. (2015), "Real-time prediction and
post-mortem analysis of the Shanghai 2015 stock market bubble and crash",
Journal of Investment Strategies 4(4), 77-95 (LPPLS confidence). Hamilton,
J. D. (1989), Econometrica 57(2), 357-384 (regime model). Cahn, D. (2024),
"AI's $600B Question", Sequoia Capital (revenue gap). Saisana, M., Saltelli,
A. and Tarantola, S. (2005), "Uncertainty and sensitivity analysis techniques
as tools for the quality assessment of composite indicators", Journal of the
Royal Statistical Society A 168(2), 307-323 (weights and bounds drawn at
random to show a composite's uncertainty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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

BUILD_UP, STRESS = "build_up", "stress"
HEADLINE, AI_ONLY = "headline", "ai_only"
COHORTS = {"ai": "ai_basket", "dotcom": "dotcom_basket"}


@dataclass(frozen=True, slots=True)
class Component:
    """One score component.

    ``transform`` turns the stored input into the scaled unit (``"linear"``:
    as is; ``"log1p"``: ln(1 + x); ``"neg"``: -x; ``"log_relative"``: see
    :func:`_log_relative`); ``lo`` maps to 0 and ``hi`` to 100 in that unit.
    ``cohorts`` are the cohorts the definition exists for.
    """

    name: str
    reading: str
    weight: float
    transform: str
    lo: float
    hi: float
    max_age_days: int
    source: str
    rule: str
    cohorts: tuple[str, ...] = ("ai", "dotcom")


COMPONENTS: tuple[Component, ...] = (
    Component("runup", BUILD_UP, 0.20, "log1p", 0.0, float(np.log(11.0)), 10,
              "runup/<basket>: ret_2y",
              "ln(1 + two-year total return): 0 at flat, 100 at +1000% (+69% -> 22, +100% -> "
              "29, +810% -> 92)"),
    Component("runup_net", BUILD_UP, 0.10, "log_relative", 0.0, float(np.log(11.0)), 10,
              "runup/<basket>: ret_2y_price, ret_2y_net",
              "ln((1 + price return) / (1 + market price return)): 0 at the market's pace, "
              "100 at 11 times it"),
    Component("psy", BUILD_UP, 0.20, "linear", 0.0, 1.0, 10,
              "psy/<members>: bsadf > cv95",
              "share of members in an explosive PSY episode x 100"),
    Component("lppls", BUILD_UP, 0.10, "linear", 0.0, 0.5, 21,
              "lppls/<members>: pos_conf",
              "mean positive-bubble confidence: 0 at none, 100 at half of the windows"),
    Component("valuation", BUILD_UP, 0.15, "linear", 0.0, 1.0, 10,
              "valuation/<members>: pe_pctile, ps_pctile",
              "mean own-history valuation percentile x 100"),
    Component("capex", BUILD_UP, 0.10, "log1p", 0.0, float(np.log(2.0)), 200,
              "capex/hyperscalers: capex_ttm_yoy",
              "ln(1 + trailing capex growth over the same companies): 0 flat, 100 doubling",
              ("ai",)),
    Component("earnings_quality", BUILD_UP, 0.05, "linear", 0.0, 15.0, 200,
              "earnings_quality/<vendor>: dso_yoy",
              "0 at unchanged DSO, 100 at +15 days y/y", ("ai",)),
    Component("revenue_gap", BUILD_UP, 0.10, "linear", 0.5, 1.0, 200,
              "revenue_gap/<vendor>: gap_share",
              "0 when half the required AI revenue is reported, 100 when none is", ("ai",)),
    Component("drawdown", STRESS, 0.40, "neg", 0.0, 0.5, 10,
              "regime/<basket>: drawdown", "0 at a new high, 100 at half way down"),
    Component("vol", STRESS, 0.40, "linear", 0.15, 0.60, 10,
              "regime/<basket>: realised_vol", "0 at 15% annualised volatility, 100 at 60%"),
    Component("high_variance", STRESS, 0.20, "linear", 0.0, 1.0, 10,
              "regime/<basket>: high_var_prob", "high-variance state probability x 100"),
)
BY_NAME: dict[str, Component] = {c.name: c for c in COMPONENTS}
NAMES: list[str] = [c.name for c in COMPONENTS]
BUILD_UP_NAMES = tuple(c.name for c in COMPONENTS if c.reading == BUILD_UP)
STRESS_NAMES = tuple(c.name for c in COMPONENTS if c.reading == STRESS)
#: People's names of the components (dashboard bars, alerts, export headers).
COMPONENT_LABELS: dict[str, str] = {
    "runup": "Two-year run-up", "runup_net": "Run-up net of the market",
    "psy": "Explosive price episodes (PSY)", "lppls": "LPPLS bubble confidence",
    "valuation": "Valuation against own history", "capex": "Capex growth",
    "earnings_quality": "Receivables drift (DSO)", "revenue_gap": "AI revenue gap",
    "drawdown": "Drawdown from the high", "vol": "Volatility",
    "high_variance": "High-variance (stress) state",
}

#: Risk bands of a 0-100 reading: the lower edges of every band but the first, and the
#: band names. The dashboard and the default ``composite-ai-band`` alert rule use them.
SCORE_BAND_EDGES: tuple[float, ...] = (20.0, 40.0, 60.0, 80.0)
SCORE_BAND_LABELS: tuple[str, ...] = ("low", "moderate", "elevated", "high", "extreme")


# --------------------------------------------------------------------------- scaling
def transform(x: pd.Series | np.ndarray, how: str) -> np.ndarray:
    """The scaled unit of a component's input (see :class:`Component`)."""
    a = np.asarray(x, dtype=float)
    if how == "linear":
        return a
    if how == "neg":
        return -a
    if how == "log1p":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log1p(np.where(a > -1.0, a, np.nan))
    raise ValueError(f"unknown transform {how!r}")


def scale(x: pd.Series | np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linear map of ``x`` onto 0-100 between ``lo`` and ``hi``, clipped (NaN kept)."""
    a = np.asarray(x, dtype=float)
    return np.clip(100.0 * (a - lo) / (hi - lo), 0.0, 100.0)


def component_score(value: pd.Series | np.ndarray | float, name: str) -> np.ndarray:
    """A component's 0-100 score from its input value in its own unit (a return,
    a share, days...; for ``runup_net`` the relative return
    ``(1 + r_price) / (1 + r_market) - 1``), at the documented bounds."""
    c = BY_NAME[name]
    how = "log1p" if c.transform == "log_relative" else c.transform
    return scale(transform(np.atleast_1d(np.asarray(value, dtype=float)), how), c.lo, c.hi)


def score_band(score: float) -> str:
    """The band name of a 0-100 score (:data:`SCORE_BAND_LABELS`); ``"no reading"`` for NaN."""
    if score is None or not np.isfinite(score):
        return "no reading"
    return SCORE_BAND_LABELS[int(np.searchsorted(SCORE_BAND_EDGES, score, side="right"))]


def band_index(score: np.ndarray) -> np.ndarray:
    """Band number (0 = low ... 4 = extreme) of each score; NaN where there is none."""
    s = np.asarray(score, dtype=float)
    out = np.searchsorted(np.asarray(SCORE_BAND_EDGES), s, side="right").astype(float)
    return np.where(np.isfinite(s), out, np.nan)


def weighted_score(scores: np.ndarray, weights: np.ndarray, coverage: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted mean of component scores per row, and the reading's coverage.

    Parameters
    ----------
    scores
        ``(T, K)`` component scores 0-100 (NaN: no value that day).
    weights
        ``(K,)`` documented weights, or ``(D, K)`` one row per Monte Carlo draw.
    coverage
        ``(T, K)`` share of the cohort each component covers (0-1).

    Returns
    -------
    score, coverage
        ``(T,)`` (or ``(D, T)``): ``sum(w c s) / sum(w c)`` over the
        components with a value, and ``sum(w c) / sum(w)``. NaN where no
        component has a value.
    """
    s = np.asarray(scores, dtype=float)
    w = np.asarray(weights, dtype=float)
    cov = np.broadcast_to(np.nan_to_num(np.asarray(coverage, dtype=float)), s.shape)
    eff = np.where(np.isfinite(s), cov, 0.0) * (w if w.ndim == 1 else w[:, None, :])
    num = (eff * np.nan_to_num(s)).sum(axis=-1)
    den = eff.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
        total = w.sum(axis=-1)
        share = den / (total if w.ndim == 1 else total[:, None])
    return score, np.where(den > 0, share, np.nan)


# --------------------------------------------------------------------------- inputs
@dataclass
class ComponentInput:
    """One component's input for a cohort on the scored dates.

    ``raw`` is the input in the scaled unit (already transformed), NaN where
    there is no value or it is stale; ``coverage`` the share of the cohort
    covered; ``age`` days since the oldest figure in it became known (kept
    where stale, NaN before any figure); ``fresh`` which members are in it
    on each date (member aggregates), ``whole`` the members of an aggregate
    read whole (named on dates it covers them all); ``why`` why there is no
    value at all.
    """

    raw: pd.Series
    coverage: pd.Series
    age: pd.Series
    source: str
    fresh: pd.DataFrame | None = None
    whole: tuple[str, ...] = ()
    why: str | None = None

    def ok(self, when: pd.Timestamp) -> bool:
        return when in self.raw.index and bool(np.isfinite(self.raw.get(when, np.nan)))

    def members_on(self, when: pd.Timestamp) -> list[str]:
        """The members the component covers on ``when`` (empty if unknown)."""
        if not self.ok(when):
            return []
        if self.fresh is not None and when in self.fresh.index:
            row = self.fresh.loc[when]
            return [str(m) for m in row.index[row.to_numpy(dtype=bool)]]
        if self.whole and self.coverage.get(when, np.nan) == 1.0:
            return list(self.whole)
        return []


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


def _stored(source: DataSource, name: str, key: str) -> pd.DataFrame:
    df = source.indicator(name, key)
    if df is None or df.empty:
        return pd.DataFrame()
    df = df.copy()
    df.index = pd.DatetimeIndex(df.index)
    return df.sort_index()


#: An input is stale after its component's ``max_age_days`` or this many times its own
#: median spacing between stored dates, whichever is longer.
CADENCE_SLACK = 1.5


def carry(values: pd.Series, index: pd.DatetimeIndex, max_age_days: int,
          known_lag_days: pd.Series | float = 0.0) -> tuple[pd.Series, pd.Series]:
    """Carry a sparse series forward onto ``index`` with its own as-of date.

    Parameters
    ----------
    values
        The input, indexed by the date it refers to (NaN rows dropped).
    index
        The dates to read it on.
    max_age_days
        Calendar days after which a carried value is stale (then NaN); at
        least :data:`CADENCE_SLACK` times the input's own median spacing
        between dates, so an input stored at a coarser step than usual (LPPLS
        fitted every 20th trading day) is not stale between its own dates.
    known_lag_days
        Days after its date from which each value counts as known (a quarter's
        filing lag), one per row or one for all.

    Returns
    -------
    value, age
        The value known on each date (NaN when none or stale) and its age in
        days since it became known (kept when stale, NaN before any value).
    """
    s = values.dropna()
    if s.empty:
        nan = pd.Series(np.nan, index=index)
        return nan, nan.copy()
    s = s[~s.index.duplicated(keep="last")].sort_index()
    lag = (known_lag_days.reindex(s.index).fillna(0.0).to_numpy()
           if isinstance(known_lag_days, pd.Series) else np.full(len(s), float(known_lag_days)))
    ref = pd.DatetimeIndex(s.index).to_numpy("datetime64[ns]")
    known = ref + (np.ceil(lag) * 86400e9).astype("timedelta64[ns]")
    order = np.lexsort((ref, known))
    ref, known, v = ref[order], known[order], s.to_numpy(dtype=float)[order]
    # a later-known figure for an older period never replaces a newer one
    ok = ref >= np.maximum.accumulate(ref)
    ref, known, v = ref[ok], known[ok], v[ok]
    last = np.r_[known[1:] != known[:-1], True]  # the last figure known on each day
    known, v = known[last], v[last]
    if len(ref) > 2:
        spacing = float(np.median(np.diff(ref) / np.timedelta64(1, "D")))
        max_age_days = max(max_age_days, int(np.ceil(CADENCE_SLACK * spacing)))
    days = pd.DatetimeIndex(index).to_numpy("datetime64[ns]")
    pos = np.searchsorted(known, days, side="right") - 1
    has = pos >= 0
    val = np.where(has, v[np.maximum(pos, 0)], np.nan)
    age = np.where(has, (days - known[np.maximum(pos, 0)]) / np.timedelta64(1, "D"), np.nan)
    age = np.floor(age)
    return (pd.Series(np.where(age <= max_age_days, val, np.nan), index=index),
            pd.Series(age, index=index))


def _single(series: pd.Series, index: pd.DatetimeIndex, comp: Component, coverage: pd.Series |
            float, lag: pd.Series | float = 0.0, source: str = "", member: str | None = None,
            why: str | None = None, how: str | None = None) -> ComponentInput:
    raw, age = carry(series, index, comp.max_age_days, lag)
    if isinstance(coverage, pd.Series):
        cov, _ = carry(coverage, index, comp.max_age_days, lag)
    else:
        cov = pd.Series(float(coverage), index=index)
    cov = cov.where(raw.notna())
    raw = pd.Series(transform(raw, how or comp.transform), index=index)
    return ComponentInput(raw.where(cov > 0), cov, age, source,
                          whole=(member,) if member else (),
                          why=None if raw.notna().any() else why)


def _members_mean(per_member: Mapping[str, pd.Series], index: pd.DatetimeIndex,
                  comp: Component, n_declared: int, source: str, why: str) -> ComponentInput:
    """Mean over the members with a fresh value on each date; coverage is their
    share of the declared members; age is the oldest included member's."""
    vals, ages = {}, {}
    for m, s in per_member.items():
        v, a = carry(s, index, comp.max_age_days)
        vals[m], ages[m] = v, a
    if not vals:
        nan = pd.Series(np.nan, index=index)
        return ComponentInput(nan, nan.copy(), nan.copy(), source, why=why)
    v = pd.DataFrame(vals, index=index)
    a = pd.DataFrame(ages, index=index)
    fresh = v.notna()
    n = fresh.sum(axis=1)
    raw = v.mean(axis=1).where(n > 0)
    age = a.where(fresh).max(axis=1).where(n > 0, a.min(axis=1))
    cov = (n / max(n_declared, 1)).where(n > 0)
    return ComponentInput(pd.Series(transform(raw, comp.transform), index=index), cov, age,
                          source, fresh=fresh, why=None if raw.notna().any() else why)


def _log_relative(frame: pd.DataFrame) -> pd.Series:
    """ln((1 + r_price) / (1 + r_market)) from a run-up result, where
    ``r_market = ret_2y_price - ret_2y_net``."""
    if not {"ret_2y_price", "ret_2y_net"} <= set(frame.columns):
        return pd.Series(dtype=float)
    rp = frame["ret_2y_price"].astype(float)
    rm = rp - frame["ret_2y_net"].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log((1.0 + rp) / (1.0 + rm))
    return pd.Series(out, index=frame.index).where((rp > -1) & (rm > -1)).dropna()


def _lag(frame: pd.DataFrame, default_days: int) -> pd.Series | float:
    """The stored filing lag of each quarter (``days_to_known``), the default where none."""
    if "days_to_known" in frame:
        return frame["days_to_known"].fillna(float(default_days))
    return float(default_days)


def cohort_inputs(source: DataSource, universe: Universe, cohort: str,
                  index: pd.DatetimeIndex, params: CompositeParams
                  ) -> dict[str, ComponentInput]:
    """Every component's input for ``cohort`` on ``index`` (absent ones with a reason)."""
    basket = COHORTS[cohort]
    members = list(universe.baskets.get(basket, ()))
    n = len(members)
    out: dict[str, ComponentInput] = {}
    run = _stored(source, "runup", basket)
    run_cov = run.get("coverage", 1.0)
    out["runup"] = _single(run["ret_2y"] if "ret_2y" in run else pd.Series(dtype=float), index,
                           BY_NAME["runup"], run_cov, source=f"runup/{basket}: ret_2y",
                           why=f"no runup results for {basket} (`bubblewatch compute runup`)")
    out["runup_net"] = _single(_log_relative(run), index, BY_NAME["runup_net"], run_cov,
                               source=f"runup/{basket}: ret_2y_price, ret_2y_net",
                               why=f"no market-relative run-up for {basket} (needs "
                                   f"{universe.market_index} prices)", how="linear")
    flags = {}
    for m in members:
        df = _stored(source, "psy", m)
        if {"bsadf", "cv95"} <= set(df.columns):
            ok = df["bsadf"].notna() & df["cv95"].notna()
            flags[m] = (df["bsadf"] > df["cv95"]).astype(float)[ok]
    out["psy"] = _members_mean(flags, index, BY_NAME["psy"], n, "psy/<members>: bsadf > cv95",
                               "no PSY results (bsadf, cv95) for the cohort's members")
    conf = {m: _stored(source, "lppls", m)["pos_conf"] for m in members
            if "pos_conf" in _stored(source, "lppls", m)}
    out["lppls"] = _members_mean(
        conf, index, BY_NAME["lppls"], n, "lppls/<members>: pos_conf",
        "no LPPLS fits (pos_conf) of the cohort's members on these dates (by default LPPLS is "
        "fitted over the last year only: `bubblewatch compute lppls --symbols ... --param "
        "span=...` fills earlier dates)")
    pct = {}
    for m in members:
        df = _stored(source, "valuation", m)
        cols = [c for c in ("pe_pctile", "ps_pctile") if c in df.columns]
        if cols:
            pct[m] = df[cols].mean(axis=1, skipna=True).dropna()
    out["valuation"] = _members_mean(
        pct, index, BY_NAME["valuation"], n, "valuation/<members>: pe_pctile, ps_pctile",
        "no point-in-time valuation for the cohort's members (no EDGAR facts; the dot-com era "
        "pre-dates XBRL)")
    reg = _stored(source, "regime", basket)
    reg_cov = reg.get("coverage", 1.0)
    for name, col in (("drawdown", "drawdown"), ("vol", "realised_vol"),
                      ("high_variance", "high_var_prob")):
        out[name] = _single(reg[col] if col in reg else pd.Series(dtype=float), index,
                            BY_NAME[name], reg_cov, source=f"regime/{basket}: {col}",
                            why=f"no regime {col} for {basket} (`bubblewatch compute regime`)")
    if cohort == "ai":
        cap = _stored(source, "capex", "hyperscalers")
        out["capex"] = _single(
            cap["capex_ttm_yoy"] if "capex_ttm_yoy" in cap else pd.Series(dtype=float), index,
            BY_NAME["capex"], cap.get("coverage", 1.0),
            _lag(cap, params.report_lag_days),
            source="capex/hyperscalers: capex_ttm_yoy",
            why="no hyperscaler capex growth (`bubblewatch compute capex` after loading their "
                "companyfacts)")
        eq = _stored(source, "earnings_quality", params.vendor)
        out["earnings_quality"] = _single(
            eq["dso_yoy"] if "dso_yoy" in eq else pd.Series(dtype=float), index,
            BY_NAME["earnings_quality"], 1.0, float(params.report_lag_days),
            source=f"earnings_quality/{params.vendor}: dso_yoy", member=params.vendor,
            why=f"no earnings_quality results for {params.vendor}")
        gap = _stored(source, "revenue_gap", params.vendor)
        out["revenue_gap"] = _single(
            gap["gap_share"] if "gap_share" in gap else pd.Series(dtype=float), index,
            BY_NAME["revenue_gap"],
            gap.get("ai_revenue_coverage", 1.0),
            _lag(gap, params.report_lag_days),
            source=f"revenue_gap/{params.vendor}: gap_share",
            why="no revenue gap against reported AI revenue (`bubblewatch compute revenue_gap`)")
    else:
        for name in ("capex", "earnings_quality", "revenue_gap"):
            nan = pd.Series(np.nan, index=index)
            out[name] = ComponentInput(
                nan, nan.copy(), nan.copy(), BY_NAME[name].source,
                why="not defined for the dot-com cohort: the reference table has no quarterly "
                    "carrier capex, Cisco receivables or AI-revenue series")
    for name in ("runup", "runup_net", "drawdown", "vol", "high_variance"):
        out[name].whole = tuple(members)
    return out


# --------------------------------------------------------------------------- readings
@dataclass(frozen=True, slots=True)
class Partition:
    """Which components make each reading, and why the others are left out."""

    headline: tuple[str, ...]
    ai_only: tuple[str, ...]
    stress: tuple[str, ...]
    excluded: Mapping[str, str]


def partition(ai: Mapping[str, ComponentInput] | None, ai_day: pd.Timestamp | None,
              dotcom: Mapping[str, ComponentInput] | None,
              dotcom_day: pd.Timestamp | None) -> Partition:
    """Headline = build-up components both cohorts have on the compared dates;
    AI-only = those only the AI cohort has; stress = the stress components.
    With only one cohort, its components present on its date form the
    headline (there is nothing to compare with)."""
    headline, ai_only, excluded = [], [], {}
    for name in BUILD_UP_NAMES:
        a = ai is not None and ai_day is not None and ai[name].ok(ai_day)
        d = dotcom is not None and dotcom_day is not None and dotcom[name].ok(dotcom_day)
        single = ai is None or dotcom is None  # nothing to compare with
        if (a and d) or (single and (a or d)):
            headline.append(name)
        elif a:
            ai_only.append(name)
        else:
            excluded[name] = _why(ai, dotcom, name, ai_day, dotcom_day)
    return Partition(tuple(headline), tuple(ai_only), STRESS_NAMES, excluded)


def _why(ai: Mapping[str, ComponentInput] | None, dotcom: Mapping[str, ComponentInput] | None,
         name: str, ai_day: pd.Timestamp | None, dotcom_day: pd.Timestamp | None) -> str:
    parts = []
    for label, inp, day in (("AI", ai, ai_day), ("dot-com", dotcom, dotcom_day)):
        if inp is None or day is None:
            parts.append(f"no {label} cohort")
        elif not inp[name].ok(day):
            why = inp[name].why or (f"stale: last value {int(inp[name].age.get(day, np.nan))} "
                                    f"days old on {day.date()}"
                                    if np.isfinite(inp[name].age.get(day, np.nan))
                                    else f"no value on {day.date()}")
            parts.append(f"{label}: {why}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Draws:
    """Monte Carlo draws of weights (one Dirichlet row per reading family) and
    bounds, shared by both cohorts."""

    weights: np.ndarray  # (D, n components), each reading's block sums to 1
    lo: np.ndarray       # (D, n components)
    hi: np.ndarray


def draw(n: int, seed: int, concentration: float, jitter: float) -> Draws:
    """``n`` seeded draws: weights ~ Dirichlet(concentration x documented
    weights) within each reading family (build-up, stress); each bound moved
    by ``U(-jitter, jitter)`` x its span."""
    rng = np.random.default_rng(seed)
    k = len(COMPONENTS)
    w = np.zeros((n, k))
    for reading in (BUILD_UP, STRESS):
        idx = [i for i, c in enumerate(COMPONENTS) if c.reading == reading]
        base = np.array([COMPONENTS[i].weight for i in idx])
        w[:, idx] = rng.dirichlet(concentration * base / base.sum(), size=n)
    lo = np.array([c.lo for c in COMPONENTS])
    hi = np.array([c.hi for c in COMPONENTS])
    span = hi - lo
    lo_d = lo + span * rng.uniform(-jitter, jitter, size=(n, k))
    hi_d = hi + span * rng.uniform(-jitter, jitter, size=(n, k))
    return Draws(w, lo_d, hi_d)


def _matrix(inputs: Mapping[str, ComponentInput], names: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    raw = np.column_stack([inputs[n].raw.to_numpy(dtype=float) for n in names])
    cov = np.column_stack([inputs[n].coverage.to_numpy(dtype=float) for n in names])
    return raw, cov


def reading(inputs: Mapping[str, ComponentInput], names: Sequence[str], index: pd.DatetimeIndex,
            draws: Draws | None = None) -> pd.DataFrame:
    """One reading over ``names``: point score (documented weights and bounds),
    coverage, Monte Carlo percentiles, and the like-for-like daily change.

    Returns
    -------
    DataFrame with ``score``, ``coverage``, ``n_components``, ``p05``,
    ``p50``, ``p95``, ``composition_change`` (1 where the components present
    or their coverage differ from the previous date) and
    ``change_same_inputs`` (the change since the previous date over the
    components present on both, with today's weights; equal to the change of
    ``score`` when nothing changed).
    """
    cols = ["score", "coverage", "n_components", "p05", "p50", "p95", "composition_change",
            "change_same_inputs"]
    if not names or not len(index):
        return pd.DataFrame(np.nan, index=index, columns=cols)
    raw, cov = _matrix(inputs, names)
    comps = [BY_NAME[n] for n in names]
    lo = np.array([c.lo for c in comps])
    hi = np.array([c.hi for c in comps])
    w = np.array([c.weight for c in comps])
    sc = scale(raw, lo, hi)
    score, coverage = weighted_score(sc, w, cov)
    present = np.isfinite(sc) & (np.nan_to_num(cov) > 0)
    out = pd.DataFrame({"score": score, "coverage": coverage,
                        "n_components": present.sum(axis=1).astype(float)}, index=index)
    out.loc[out["n_components"] == 0, "n_components"] = np.nan
    if draws is not None:
        order = [NAMES.index(n) for n in names]
        wd, lod, hid = draws.weights[:, order], draws.lo[:, order], draws.hi[:, order]
        sd = np.clip(100.0 * (raw[None, :, :] - lod[:, None, :])
                     / (hid - lod)[:, None, :], 0.0, 100.0)
        mc, _ = weighted_score(sd, wd, cov)
        q = np.full((3, len(index)), np.nan)
        ok = np.isfinite(mc).all(axis=0)  # every draw has a value wherever the point score does
        if ok.any():
            q[:, ok] = np.quantile(mc[:, ok], [0.05, 0.5, 0.95], axis=0)
        out["p05"], out["p50"], out["p95"] = q[0], q[1], q[2]
    else:
        out["p05"] = out["p50"] = out["p95"] = np.nan
    covz = np.where(present, np.nan_to_num(cov), 0.0)
    changed = np.zeros(len(index))
    delta = np.full(len(index), np.nan)
    if len(index) > 1:
        changed[1:] = (np.any(present[1:] != present[:-1], axis=1)
                       | np.any(np.abs(covz[1:] - covz[:-1]) > 1e-12, axis=1)).astype(float)
        both = present[1:] & present[:-1]
        wt = np.where(both, w * covz[1:], 0.0)
        den = wt.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            now = (wt * np.nan_to_num(sc[1:])).sum(axis=1) / den
            then = (wt * np.nan_to_num(sc[:-1])).sum(axis=1) / den
        delta[1:] = np.where(den > 0, now - then, np.nan)
    out["composition_change"] = np.where(np.isfinite(score), changed, np.nan)
    out["change_same_inputs"] = delta
    return out[cols]


# --------------------------------------------------------------------------- parameters
class CompositeParams(Params):
    """Parameters of the composite score."""

    ai_window: tuple[date, date | None] = Field(
        (date(2010, 1, 1), None), description="dates scored for the AI cohort (end None: today)")
    dotcom_window: tuple[date, date | None] = Field(
        (date(1995, 1, 1), date(2003, 12, 31)), description="dates scored for the dot-com "
        "cohort")
    dotcom_peak_date: date = Field(date(2000, 3, 10), description="the dot-com date compared "
                                   "with the AI cohort's latest (Nasdaq Composite peak close)")
    report_lag_days: int = Field(45, ge=0, description="days after a quarter's end before its "
                                 "figures count when the input stores no filing lag "
                                 "(earnings quality)")
    vendor: str = Field("NVDA", description="the AI vendor whose DSO and revenue gap are scored")
    mc_draws: int = Field(400, ge=20, le=20000, description="Monte Carlo draws of weights and "
                          "bounds for the uncertainty band")
    mc_seed: int = Field(20000310, description="seed of the Monte Carlo draws (reproducible)")
    mc_concentration: float = Field(20.0, gt=0, description="Dirichlet concentration of the "
                                    "drawn weights around the documented ones (larger: "
                                    "closer)")
    mc_bound_jitter: float = Field(0.25, ge=0, lt=0.5, description="each scaling bound is "
                                   "moved by up to this share of its span")


# --------------------------------------------------------------------------- metadata
class ComponentRule(BaseModel):
    """How one component's input maps onto 0-100."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reading: str
    weight: float
    transform: str
    lo: float
    hi: float
    max_age_days: int
    input: str
    rule: str
    cohorts: list[str]


class ComponentReading(BaseModel):
    """Provenance of one component on one date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    reading: str
    source: str
    value: float | None = None
    score: float | None = None
    weight: float
    coverage: float | None = None
    members: list[str] = Field(default_factory=list)
    as_of: date | None = None
    age_days: int | None = None
    stale: bool = False
    why_missing: str | None = None


class Reading(BaseModel):
    """The readings of one cohort on one date, with every component's provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    score: float | None = None
    score_p05: float | None = None
    score_p95: float | None = None
    coverage: float | None = None
    band: str = "no reading"
    ai_only: float | None = None
    ai_only_p05: float | None = None
    ai_only_p95: float | None = None
    ai_only_coverage: float | None = None
    stress: float | None = None
    stress_p05: float | None = None
    stress_p95: float | None = None
    stress_coverage: float | None = None
    components: list[ComponentReading] = Field(default_factory=list)


class ScoreOnDate(BaseModel):
    """A score and the date it was reached."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    score: float


class MonteCarlo(BaseModel):
    """How the uncertainty band was drawn, and what it says about the comparison."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    draws: int
    seed: int
    concentration: float
    bound_jitter: float
    share_ai_below_dotcom_peak: float | None = None


class CompositeMeta(Meta):
    """What is stored beside each cohort's composite."""

    readings: dict[str, list[str]]
    compared_dates: dict[str, date | None]
    rules: dict[str, ComponentRule]
    excluded_components: dict[str, str] = Field(default_factory=dict)
    missing_components: dict[str, str] = Field(default_factory=dict)
    uncertainty: MonteCarlo
    latest: Reading | None = None
    peak_reading: Reading | None = None
    dotcom_peak_reading: Reading | None = None
    max_score: ScoreOnDate | None = None


# --------------------------------------------------------------------------- assembly
def _dates(source: DataSource, universe: Universe, cohort: str, window: tuple[date, date | None]
           ) -> pd.DatetimeIndex:
    for name in ("runup", "regime"):
        df = _stored(source, name, COHORTS[cohort])
        if not df.empty:
            idx = pd.DatetimeIndex(df.index)
            break
    else:
        market = source.prices(universe.market_index)
        idx = pd.DatetimeIndex(market.index) if market is not None else pd.DatetimeIndex([])
    idx = idx[idx >= pd.Timestamp(window[0])]
    if window[1]:
        idx = idx[idx <= pd.Timestamp(window[1])]
    return pd.DatetimeIndex(idx.sort_values().unique(), name="date")


@dataclass
class Cohort:
    """One cohort's inputs and readings."""

    name: str
    index: pd.DatetimeIndex
    inputs: dict[str, ComponentInput]
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    headline: pd.DataFrame = field(default_factory=pd.DataFrame)


def _cohort(source: DataSource, universe: Universe, cohort: str,
            params: CompositeParams) -> Cohort | None:
    if COHORTS[cohort] not in universe.baskets:
        return None
    window = params.ai_window if cohort == "ai" else params.dotcom_window
    index = _dates(source, universe, cohort, window)
    return Cohort(cohort, index, cohort_inputs(source, universe, cohort, index, params))


def _compared_day(c: Cohort | None, day: date | None) -> pd.Timestamp | None:
    if c is None or not len(c.index):
        return None
    if day is None:
        return c.index[-1]
    sub = c.index[c.index <= pd.Timestamp(day)]
    return sub[-1] if len(sub) else None


def _assemble(c: Cohort, part: Partition, draws: Draws) -> None:
    head = reading(c.inputs, part.headline, c.index, draws)
    stress = reading(c.inputs, part.stress, c.index, draws)
    out = pd.DataFrame(index=c.index)
    out["score"] = head["score"]
    out["score_p05"], out["score_p50"], out["score_p95"] = head["p05"], head["p50"], head["p95"]
    out["coverage"] = head["coverage"]
    out["n_components"] = head["n_components"]
    out["band"] = band_index(head["score"].to_numpy())
    out["composition_change"] = head["composition_change"]
    out["score_change_same_inputs"] = head["change_same_inputs"]
    if c.name == "ai":
        ai = reading(c.inputs, part.ai_only, c.index, draws)
        out["ai_only"] = ai["score"]
        out["ai_only_p05"], out["ai_only_p50"], out["ai_only_p95"] = ai["p05"], ai["p50"], ai["p95"]
        out["ai_only_coverage"] = ai["coverage"]
        out["ai_only_change_same_inputs"] = ai["change_same_inputs"]
    out["stress"] = stress["score"]
    out["stress_p05"], out["stress_p50"], out["stress_p95"] = (stress["p05"], stress["p50"],
                                                               stress["p95"])
    out["stress_coverage"] = stress["coverage"]
    for comp in COMPONENTS:
        inp = c.inputs[comp.name]
        out[f"c_{comp.name}"] = scale(inp.raw.to_numpy(dtype=float), comp.lo, comp.hi)
        out[f"cov_{comp.name}"] = inp.coverage.where(inp.raw.notna())
        out[f"age_{comp.name}"] = inp.age
        out[f"stale_{comp.name}"] = (inp.raw.isna() & inp.age.notna()).astype(float).where(
            inp.age.notna())
    keep = out[["score", "ai_only", "stress"] if "ai_only" in out else ["score", "stress"]]
    c.frame = out[keep.notna().any(axis=1)]
    c.headline = head


def _value(x: float | None, comp: Component) -> float | None:
    """A component's input back in its own unit (see :func:`component_score`)."""
    if x is None or not np.isfinite(x):
        return None
    if comp.transform in ("log1p", "log_relative"):
        return float(np.expm1(x))
    if comp.transform == "neg":
        return float(-x)
    return float(x)


def _opt(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def reading_on(c: Cohort, part: Partition, day: pd.Timestamp | None) -> Reading | None:
    """The readings of cohort ``c`` on ``day`` (its last date on or before),
    with every component's provenance."""
    if day is None or c.frame.empty:
        return None
    sub = c.frame[c.frame.index <= day]
    if sub.empty:
        return None
    when = sub.index[-1]
    row = sub.iloc[-1]
    group = {**{n: HEADLINE for n in part.headline}, **{n: STRESS for n in part.stress},
             **({n: AI_ONLY for n in part.ai_only} if c.name == "ai" else {})}
    comps = []
    for comp in COMPONENTS:
        inp = c.inputs[comp.name]
        raw = inp.raw.get(when, np.nan)
        age = inp.age.get(when, np.nan)
        fresh = bool(np.isfinite(raw))
        reading_name = group.get(comp.name, "excluded")
        why = None
        if not fresh:
            why = inp.why or (f"stale: last value {int(age)} days old (limit "
                              f"{comp.max_age_days})" if np.isfinite(age)
                              else f"no value on {when.date()}")
        elif reading_name == "excluded":
            why = ("not in a reading: " + part.excluded.get(
                comp.name, "the AI cohort has no value on the compared date"))
        comps.append(ComponentReading(
            name=comp.name, reading=reading_name,
            source=inp.source, value=_value(raw, comp),
            score=float(scale(np.array([raw]), comp.lo, comp.hi)[0]) if fresh else None,
            weight=comp.weight, coverage=_opt(inp.coverage.get(when)) if fresh else None,
            members=inp.members_on(when),
            as_of=(when - pd.Timedelta(days=int(age))).date() if np.isfinite(age) else None,
            age_days=int(age) if np.isfinite(age) else None,
            stale=bool(np.isfinite(age) and not fresh), why_missing=why))
    return Reading(
        date=when.date(), score=_opt(row.get("score")), score_p05=_opt(row.get("score_p05")),
        score_p95=_opt(row.get("score_p95")), coverage=_opt(row.get("coverage")),
        band=score_band(_opt(row.get("score")) or np.nan),
        ai_only=_opt(row.get("ai_only")), ai_only_p05=_opt(row.get("ai_only_p05")),
        ai_only_p95=_opt(row.get("ai_only_p95")),
        ai_only_coverage=_opt(row.get("ai_only_coverage")),
        stress=_opt(row.get("stress")), stress_p05=_opt(row.get("stress_p05")),
        stress_p95=_opt(row.get("stress_p95")), stress_coverage=_opt(row.get("stress_coverage")),
        components=comps)


def _share_below(ai: Cohort, dot: Cohort, part: Partition, draws: Draws,
                 ai_day: pd.Timestamp | None, dot_day: pd.Timestamp | None) -> float | None:
    """Share of the Monte Carlo draws in which the AI headline on ``ai_day`` is
    below the dot-com headline on ``dot_day`` (same draws on both sides)."""
    if ai_day is None or dot_day is None or not part.headline:
        return None
    order = [NAMES.index(n) for n in part.headline]
    wd, lod, hid = draws.weights[:, order], draws.lo[:, order], draws.hi[:, order]
    vals = []
    for c, day in ((ai, ai_day), (dot, dot_day)):
        pos = c.index.get_indexer([day])[0]
        raw, cov = _matrix(c.inputs, part.headline)
        sd = np.clip(100.0 * (raw[pos][None, :] - lod) / (hid - lod), 0.0, 100.0)
        mc, _ = weighted_score(sd, wd, np.broadcast_to(cov[pos], sd.shape))
        vals.append(mc)
    a, d = vals
    ok = np.isfinite(a) & np.isfinite(d)
    return float(np.mean(a[ok] < d[ok])) if ok.any() else None


def compute(ctx: ComputeContext, key: str,
            params: CompositeParams) -> IndicatorResult[CompositeMeta]:
    if key not in COHORTS:
        raise ValueError(f"composite keys are {', '.join(COHORTS)}, not {key!r}")
    source = CachedResults(ctx.source)
    ai = _cohort(source, ctx.universe, "ai", params)
    dot = _cohort(source, ctx.universe, "dotcom", params)
    ai_day = _compared_day(ai, None)
    dot_day = _compared_day(dot, params.dotcom_peak_date)
    part = partition(ai.inputs if ai else None, ai_day, dot.inputs if dot else None, dot_day)
    draws = draw(params.mc_draws, params.mc_seed, params.mc_concentration,
                 params.mc_bound_jitter)
    for c in (ai, dot):
        if c is not None:
            _assemble(c, part, draws)
    this = ai if key == "ai" else dot
    assert this is not None  # composite_keys() only lists cohorts with a basket
    share = (_share_below(ai, dot, part, draws, ai_day, dot_day)
             if ai is not None and dot is not None else None)
    day = _compared_day(this, None)
    missing = {}
    if day is not None:
        for comp in COMPONENTS:
            inp = this.inputs[comp.name]
            if not inp.ok(day):
                missing[comp.name] = inp.why or _why(
                    ai.inputs if ai else None, dot.inputs if dot else None, comp.name,
                    ai_day if key == "ai" else None, dot_day if key == "dotcom" else None)
    fields: dict[str, Any] = {
        "readings": {HEADLINE: list(part.headline), AI_ONLY: list(part.ai_only),
                     STRESS: list(part.stress)},
        "compared_dates": {"ai": ai_day.date() if ai_day is not None else None,
                           "dotcom": dot_day.date() if dot_day is not None else None},
        "rules": {c.name: ComponentRule(reading=c.reading, weight=c.weight,
                                        transform=c.transform, lo=c.lo, hi=c.hi,
                                        max_age_days=c.max_age_days, input=c.source,
                                        rule=c.rule, cohorts=list(c.cohorts))
                  for c in COMPONENTS},
        "excluded_components": dict(part.excluded),
        "missing_components": missing,
        "uncertainty": MonteCarlo(draws=params.mc_draws, seed=params.mc_seed,
                                  concentration=params.mc_concentration,
                                  bound_jitter=params.mc_bound_jitter,
                                  share_ai_below_dotcom_peak=share),
        "latest": reading_on(this, part, day),
    }
    if dot is not None:
        peak = reading_on(dot, part, dot_day)
        fields["peak_reading" if key == "dotcom" else "dotcom_peak_reading"] = peak
        if key == "dotcom" and not dot.frame["score"].dropna().empty:
            s = dot.frame["score"].dropna()
            fields["max_score"] = ScoreOnDate(date=s.idxmax().date(), score=float(s.max()))
    notes = []
    if not part.headline:
        notes.append("no build-up component is available for both cohorts on the compared "
                     "dates: there is no like-for-like headline")
    if ai is None or dot is None:
        notes.append("only one cohort has a basket: the headline compares nothing")
    if notes:
        fields["note"] = "; ".join(notes)
    return IndicatorResult(this.frame, CompositeMeta(**fields))


def provenance_table(ai: Reading | None, dotcom: Reading | None) -> pd.DataFrame:
    """Every component of two readings side by side, for people and exports.

    Returns
    -------
    DataFrame, one row per component in the order of :data:`COMPONENTS`:
    ``component, reading, weight, source`` and for each side (``ai_``,
    ``dotcom_``) ``score`` (0-100), ``value`` (input in its own unit),
    ``coverage``, ``as_of``, ``age_days``, ``stale`` and ``why`` (why it is
    not scored, if so). ``reading`` is the AI side's (headline, ai_only,
    stress, excluded).
    """
    sides = {"ai": {c.name: c for c in ai.components} if ai else {},
             "dotcom": {c.name: c for c in dotcom.components} if dotcom else {}}
    rows = []
    for comp in COMPONENTS:
        row: dict[str, Any] = {"component": comp.name, "weight": comp.weight,
                               "source": comp.source}
        ref = sides["ai"].get(comp.name) or sides["dotcom"].get(comp.name)
        row["reading"] = ref.reading if ref is not None else "excluded"
        for side, comps in sides.items():
            c = comps.get(comp.name)
            row.update({f"{side}_score": c.score if c else None,
                        f"{side}_value": c.value if c else None,
                        f"{side}_coverage": c.coverage if c else None,
                        f"{side}_as_of": c.as_of if c else None,
                        f"{side}_age_days": c.age_days if c else None,
                        f"{side}_stale": c.stale if c else None,
                        f"{side}_why": c.why_missing if c else None})
        rows.append(row)
    return pd.DataFrame(rows)


def composite_keys(universe: Universe) -> Sequence[str]:
    return [k for k, b in COHORTS.items() if b in universe.baskets]


def _columns() -> dict[str, Column]:
    cols = {
        "score": Column("Bubble-risk score, like for like", "score 0-100",
                        "headline: build-up components both cohorts have on the compared dates, "
                        "coverage-weighted"),
        "score_p05": Column("Score, 5th percentile", "score 0-100",
                            "Monte Carlo over weights and scaling bounds"),
        "score_p50": Column("Score, median of draws", "score 0-100",
                            "Monte Carlo over weights and scaling bounds"),
        "score_p95": Column("Score, 95th percentile", "score 0-100",
                            "Monte Carlo over weights and scaling bounds"),
        "coverage": Column("Headline coverage", "fraction 0-1",
                           "share of the headline's weight backed by data (components x their "
                           "member coverage)"),
        "n_components": Column("Headline components present", "count",
                               "headline components with a fresh value"),
        "band": Column("Band", "0 low, 1 moderate, 2 elevated, 3 high, 4 extreme",
                       "band of the headline score (edges 20, 40, 60, 80)"),
        "composition_change": Column("Composition change", "1 = yes, 0 = no",
                                     "the headline's components or their coverage differ from "
                                     "the previous date (data arrived or went stale)"),
        "score_change_same_inputs": Column(
            "Headline change on unchanged inputs", "score points",
            "change since the previous date over the components present on both"),
        "ai_only": Column("AI-only sub-score", "score 0-100",
                          "build-up components the dot-com cohort has no counterpart for"),
        "ai_only_p05": Column("AI-only sub-score, 5th percentile", "score 0-100", "Monte Carlo"),
        "ai_only_p50": Column("AI-only sub-score, median of draws", "score 0-100", "Monte Carlo"),
        "ai_only_p95": Column("AI-only sub-score, 95th percentile", "score 0-100", "Monte Carlo"),
        "ai_only_coverage": Column("AI-only coverage", "fraction 0-1",
                                   "share of the sub-score's weight backed by data"),
        "ai_only_change_same_inputs": Column(
            "AI-only change on unchanged inputs", "score points",
            "change since the previous date over the components present on both"),
        "stress": Column("Stress reading", "score 0-100",
                         "drawdown, volatility and high-variance state: stress, not build-up"),
        "stress_p05": Column("Stress, 5th percentile", "score 0-100", "Monte Carlo"),
        "stress_p50": Column("Stress, median of draws", "score 0-100", "Monte Carlo"),
        "stress_p95": Column("Stress, 95th percentile", "score 0-100", "Monte Carlo"),
        "stress_coverage": Column("Stress coverage", "fraction 0-1",
                                  "share of the stress reading's weight backed by data"),
    }
    for c in COMPONENTS:
        label = COMPONENT_LABELS[c.name]
        cols[f"c_{c.name}"] = Column(label, "score 0-100",
                                     f"{c.rule}; weight {c.weight:.2f} in the {c.reading.replace('_', '-')} "
                                     f"reading; from {c.source}")
        cols[f"cov_{c.name}"] = Column(f"Coverage: {label}", "fraction 0-1",
                                       "share of the cohort the component covers that day")
        cols[f"age_{c.name}"] = Column(f"Age: {label}", "days",
                                       f"days since its input became known (stale after "
                                       f"{c.max_age_days}); as-of date = date - age")
        cols[f"stale_{c.name}"] = Column(f"Stale: {label}", "1 = yes, 0 = no",
                                         "1 when its latest input is too old (or empty of "
                                         "members) and it is left out that day")
    return cols


INDICATOR = Indicator(
    name="composite",
    title="Composite bubble-risk score",
    description=(
        "A like-for-like 0-100 headline from the build-up components both the AI and the "
        "dot-com cohort have on the compared dates (log-scaled run-up, run-up net of the "
        "market, PSY explosiveness share), an AI-only sub-score (valuation, capex growth, "
        "DSO drift, revenue gap, LPPLS while only recent fits exist) and a separate stress "
        "reading (drawdown, volatility, high-variance state). Components are coverage-"
        "weighted, carried forward with their as-of date until stale, and a seeded Monte "
        "Carlo over weights and bounds gives a 5-95% band."
    ),
    columns=_columns(),
    params=CompositeParams,
    meta=CompositeMeta,
    keys=composite_keys,
    compute=compute,
    page="",
    sampling="the dates of the cohort basket's run-up series (daily recently, weekly before)",
    depends_on=("runup", "regime", "valuation", "capex", "earnings_quality", "revenue_gap",
                "psy", "lppls"),
)
