"""A real-time PSY reading robust to technology adoption: indicator ``psy_gpt``.

Huang, Chen, Chen, Li & Zhang (2026) show that when a general-purpose
technology (GPT) is being adopted, the fundamental value of the firms that
sell it can itself be locally explosive, so the PSY test flags "bubbles"
that are adoption; they propose to project prices on observable technology
proxies and to test what remains. ``psy_gpt`` does that, point in time, with
the adoption proxies bubblewatch has for each company: its trailing-twelve-
month revenue and capital expenditure as known on each date from its SEC
filings (:func:`ingest.pit.pit_ttm`). Beside it, over the same dates, the raw
real-time reading on the log price, so both can be read together.

On each date ``t`` (weekly by default), using data up to ``t`` only:

1. regress the log adjusted close on a constant and the logs of the proxies
   known then, over every date of the sample up to ``t`` (OLS);
2. the residuals up to ``t`` are "what remains of the price"; their BSADF on
   ``t`` (PSY window of the sample to date, lag 0) is compared with the
   critical value of a sample ending at ``t`` (shipped tables; rule
   ``"sadf"`` or ``"pointwise"`` as in ``psy_rt``);
3. the same is done on the log price itself (the raw reading).

The projection is re-estimated on every date, so a stored reading never
changes when later data arrive, but the residual path behind it does.

Assumptions, and where this differs from the paper
---------------------------------------------------
* The proxies are company revenue and capex, not the paper's economy-wide
  technology measures (total factor productivity, IT investment, patent
  grants); they measure the firm's own adoption-driven growth, so what
  remains is price growth beyond the growth of the business.
* The price is per share (dividend- and split-adjusted); the proxies are
  company totals: buybacks and issuance enter the residual, and the slope
  absorbs a steady share count only approximately.
* The relation is log-linear with constant coefficients over the sample to
  date. A bubble in the training period inflates the slopes and hides part
  of the bubble (the test is then conservative).
* The critical values are those of the random-walk null, as for the raw
  reading. The residual of an estimated projection has a different null
  distribution (as in residual-based cointegration tests), so read the
  GPT-robust alarm as an indication, not an exact 5% test.
* Filings start in 2009-2010 (XBRL), so the readings start years later than
  the raw ``psy_rt`` ones, and no dot-com company has them: for Cisco 1998-
  2000 there is no GPT-robust reading.
* A proxy counts on a date only while its trailing twelve months ended at
  most ``max_age_days`` (200) before it; the sample is the latest stretch on
  which every proxy does (dates left out are named in the metadata note). A
  stale figure carried forward for years would otherwise pose as a constant.
* Revenue is the default proxy; capex is opt-in (``--param
  proxies=revenue,capex``). NVIDIA's trailing capex as read from its filings
  is stale from 2013 to 2024 (no capex quarter can be derived for
  2012-10-28..2013-01-28, so no later trailing figure is contiguous), which
  would leave two years of data, and a fabless designer's own capex is not
  what its customers adopt; for the hyperscalers capex is the build-out
  itself, so it is worth adding there.
* A proxy without variation so far (a single trailing figure) is left out of
  that date's projection (its slope is empty).

Defaults: weekly; proxy revenue; 104 weekly observations with every proxy
known before the first reading; rule ``"sadf"``; level 95%.

References
----------
Huang, D., Chen, H., Chen, L., Li, Y. & Zhang, Z. (2026). General-purpose
technology and speculative bubble detection. arXiv:2604.25826.

Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from bubblewatch.core.errors import DataQualityWarning, InfeasibleTestError
from indicators import _psy_kernels as kernels
from indicators._monitor_inputs import (
    check_length,
    engine_call,
    key_prices,
    sampled_series,
)
from indicators._psy_inputs import psy_min_window
from indicators.critical_values.simulate import LEVELS, psy_first_n
from indicators.critical_values.tables import level_column, load_table
from indicators.psy_monitor import MonitorEpisode, monitor_psy, realtime_episodes
from indicators.psy_realtime import Level, episode_events
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from ingest.pit import pit_ttm

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Proxies the indicator can project on (quantities of :mod:`ingest.pit`).
PROXIES: tuple[str, ...] = ("revenue", "capex")


class PsyGptParams(Params):
    """Parameters of ``psy_gpt`` (see the module docstring)."""

    freq: Literal["W", "M"] = Field("W", description="sampling: last close of each week or "
                                    "month")
    start: date | None = Field(date(1990, 1, 1), description="first date considered (the "
                               "sample starts when every proxy is known)")
    proxies: tuple[Literal["revenue", "capex"], ...] = Field(
        ("revenue",), min_length=1, description="adoption proxies: trailing-twelve-month "
        "revenue and/or capex known on each date")
    max_age_days: int = Field(200, ge=90, description="a proxy counts on a date only if its "
                              "twelve months ended at most this many days before")
    training: int = Field(104, ge=20, description="observations with every proxy known "
                          "before the first reading (104 weeks = two years)")
    rule: Literal["pointwise", "sadf"] = Field("sadf", description="critical value: pointwise "
                                               "(PSY 2015) or the SADF rule (exuber)")
    level: Level = Field(0.95, description="confidence level")
    min_duration: int | None = Field(None, ge=1, description="alarms in a row that confirm an "
                                     "episode (None: round(log(training)))")

    @field_validator("proxies")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"proxies must not repeat, got {list(v)}")
        return v


@dataclass(frozen=True, slots=True)
class GptReadings:
    """Real-time raw and GPT-robust PSY readings of one company (arrays per
    reading date; see :func:`gpt_realtime`)."""

    index: pd.DatetimeIndex
    proxies: tuple[str, ...]
    log_price: np.ndarray
    fitted: np.ndarray
    resid: np.ndarray
    betas: np.ndarray  # readings x proxies (slopes)
    r2: np.ndarray
    raw_bsadf: np.ndarray
    raw_cv: np.ndarray
    gpt_bsadf: np.ndarray
    gpt_cv: np.ndarray
    min_window: np.ndarray
    rule: str
    min_duration: int
    raw_episodes: tuple[MonitorEpisode, ...]
    gpt_episodes: tuple[MonitorEpisode, ...]
    raw_confirmed: np.ndarray
    gpt_confirmed: np.ndarray

    @property
    def raw_alarm(self) -> np.ndarray:
        return self.raw_bsadf > self.raw_cv

    @property
    def gpt_alarm(self) -> np.ndarray:
        return self.gpt_bsadf > self.gpt_cv

    def frame(self) -> pd.DataFrame:
        """One row per reading, the fields of :data:`COLUMNS`."""
        data: dict[str, Any] = {
            "log_price": self.log_price, "fitted": self.fitted, "resid": self.resid,
            **{f"beta_{p}": self.betas[:, k] for k, p in enumerate(self.proxies)},
            "r2": self.r2, "raw_bsadf": self.raw_bsadf, "raw_cv": self.raw_cv,
            "raw_alarm": self.raw_alarm, "raw_confirmed": self.raw_confirmed,
            "gpt_bsadf": self.gpt_bsadf, "gpt_cv": self.gpt_cv, "gpt_alarm": self.gpt_alarm,
            "gpt_confirmed": self.gpt_confirmed, "min_window": self.min_window,
        }
        return pd.DataFrame(data, index=self.index).astype(float)


def gpt_realtime(log_price: pd.Series, proxies: pd.DataFrame, *, training: int,
                 rule: str = "sadf", level: float = 0.95,
                 min_duration: int | None = None) -> GptReadings:
    """Raw and GPT-robust real-time PSY readings (see the module docstring).

    Parameters
    ----------
    log_price
        Log prices, one per date, without gaps.
    proxies
        Logs of the proxies on the same dates (one column each), known on
        each date (point in time), without gaps.
    training
        Observations before the first reading.
    rule, level, min_duration
        As in :func:`indicators.psy_realtime.psy_realtime` (lag 0).

    Returns
    -------
    GptReadings
        Its reading on date ``t`` equals the last reading of
        ``gpt_realtime(log_price[:t], proxies[:t], ...)``.

    Raises
    ------
    InfeasibleTestError
        Too short a training sample, more observations than the tables.
    ValueError
        Misaligned or non-finite inputs, an unknown rule.
    """
    proc = "GPT-robust PSY"
    if rule not in ("pointwise", "sadf"):
        raise ValueError(f"{proc}: rule must be 'pointwise' or 'sadf', got {rule!r}")
    if not log_price.index.equals(proxies.index):
        raise ValueError(f"{proc}: the price and the proxies must share their dates")
    y = log_price.to_numpy(dtype=float)
    x = proxies.to_numpy(dtype=float)
    if not (np.isfinite(y).all() and np.isfinite(x).all()):
        raise ValueError(f"{proc}: the price and the proxies must be finite on every date "
                         "(a gap in the price or in a filing history)")
    n, k = x.shape
    first = max(psy_first_n(0) - 1, k + 3)
    if training < first:
        raise InfeasibleTestError(f"{proc}: training={training} observations is too short; it "
                                  f"needs at least {first}")
    if training >= n:
        raise InfeasibleTestError(f"{proc}: {n} observations leave nothing to read after a "
                                  f"training sample of {training}; it needs at least "
                                  f"{training + 1}")
    table = load_table(0)
    if n > table.n_max:
        raise InfeasibleTestError(f"{proc}: {n} observations exceed the shipped PSY tables (up "
                                  f"to {table.n_max}); use a lower sampling frequency")
    col = level_column(LEVELS, level)
    positions = np.arange(training, n)
    sizes = positions + 1
    which = "bsadf" if rule == "pointwise" else "sadf"
    cv = np.asarray(table.at(sizes, which)[:, col], dtype=float)
    raw = monitor_psy(log_price, training=training, lag=0, level=level, rule=rule,
                      min_duration=min_duration)
    design = np.column_stack([np.ones(n), x])
    m = positions.size
    fitted, resid, r2 = np.empty(m), np.empty(m), np.empty(m)
    betas = np.empty((m, k))
    bsadf = np.empty(m)
    windows = np.array([psy_min_window(int(s)) for s in sizes], dtype=np.int64)
    out = np.empty((1, 1))
    for j, t in enumerate(positions):
        # a proxy without variation so far (one trailing figure) is left out:
        # it would be collinear with the constant
        cols = np.concatenate(([0], 1 + np.flatnonzero(np.ptp(x[:t + 1], axis=0) > 0)))
        xs, ys = design[:t + 1, cols], y[:t + 1]
        beta, *_ = np.linalg.lstsq(xs, ys, rcond=None)
        e = ys - xs @ beta
        fitted[j] = float(xs[-1] @ beta)
        resid[j] = float(e[-1])
        betas[j] = np.nan
        betas[j, cols[1:] - 1] = beta[1:]
        tss = float(np.sum((ys - ys.mean()) ** 2))
        r2[j] = 1.0 - float(e @ e) / tss if tss > 0 else math.nan
        kernels.tail_bsadf_lag0(np.ascontiguousarray(e[None, :]), int(windows[j]), 1, out)
        bsadf[j] = out[0, 0]
    md = raw.min_duration
    index = pd.DatetimeIndex(log_price.index[positions], name="date")
    gpt_eps, gpt_conf = realtime_episodes(bsadf > cv, bsadf, positions, resid_path(y, resid,
                                          positions), md, log_price.index)
    return GptReadings(
        index=index, proxies=tuple(str(c) for c in proxies.columns), log_price=y[positions],
        fitted=fitted, resid=resid, betas=betas, r2=r2, raw_bsadf=np.asarray(raw.bsadf),
        raw_cv=np.asarray(raw.cv), gpt_bsadf=bsadf, gpt_cv=cv, min_window=windows, rule=rule,
        min_duration=md, raw_episodes=raw.episodes, gpt_episodes=gpt_eps,
        raw_confirmed=np.asarray(raw.confirmed), gpt_confirmed=gpt_conf)


def resid_path(y: np.ndarray, resid: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The series an episode's direction is read from: the real-time
    residual at each reading (positions before the first reading hold 0)."""
    out = np.zeros(y.shape[0])
    out[positions] = resid
    return out


def proxy_frame(facts: pd.DataFrame, dates: pd.DatetimeIndex, proxies: Sequence[str], *,
                key: str, max_age_days: int) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Logs of the trailing-twelve-month proxies known on each of ``dates``
    (point in time) over the latest stretch of dates on which every proxy is
    known, positive and fresh (its twelve months ended at most
    ``max_age_days`` before the date), the XBRL concepts each rests on (on
    the last date) and notes on the dates left out before that stretch.

    Raises
    ------
    InfeasibleTestError
        A proxy never known, or not usable on the last date.
    """
    cols, concepts, usable = {}, {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        for q in proxies:
            ttm = pit_ttm(facts, q, dates, company=key)
            v = pd.to_numeric(ttm["value"], errors="coerce")
            if v.notna().sum() == 0:
                raise InfeasibleTestError(
                    f"{key}: GPT-robust PSY: no trailing-twelve-month {q} in its SEC filings; "
                    "load its companyfacts with `bubblewatch ingest` or drop the proxy "
                    "(parameter proxies)")
            ended = pd.DatetimeIndex(pd.to_datetime(ttm["period_end"]))
            age = np.asarray((dates - ended).days, dtype=float)
            usable[q] = (v.to_numpy() > 0) & (age <= max_age_days)
            cols[q] = v
            last = ttm["concepts"].dropna()
            concepts[q] = str(last.iloc[-1]) if not last.empty else ""
    ok = np.logical_and.reduce([usable[q] for q in proxies])
    if not ok[-1]:
        bad = [q for q in proxies if not usable[q][-1]]
        raise InfeasibleTestError(
            f"{key}: GPT-robust PSY: {', '.join(bad)} not usable on {dates[-1]:%Y-%m-%d} (no "
            f"positive trailing figure whose twelve months ended within {max_age_days} days); "
            "drop the proxy (parameter proxies) or raise max_age_days")
    off = np.flatnonzero(~ok)
    first = int(off[-1]) + 1 if off.size else 0
    notes = []
    known = np.logical_and.reduce([cols[q].notna().to_numpy() for q in proxies])
    if off.size and known[:first].any():
        for q in proxies:
            stale = np.flatnonzero(~usable[q][:first] & cols[q].notna().to_numpy()[:first])
            if stale.size:
                notes.append(f"{q}: the trailing figure known was stale (twelve months ended "
                             f"more than {max_age_days} days earlier) or not positive on "
                             f"{stale.size} dates from {dates[stale[0]]:%Y-%m-%d} to "
                             f"{dates[stale[-1]]:%Y-%m-%d}; the sample starts after them, on "
                             f"{dates[first]:%Y-%m-%d}")
    frame = pd.DataFrame(cols, index=dates).iloc[first:]
    return np.log(frame), concepts, notes


class PsyGptMeta(Meta):
    """What is stored beside each company's raw and GPT-robust readings."""

    method: str = ("PSY on what remains of the price after projecting it on adoption proxies "
                   "(Huang, Chen, Chen, Li & Zhang 2026), in real time")
    freq: str
    proxies: list[str]
    concepts: dict[str, str] = Field(default_factory=dict)
    sample_start: date | None = None
    first_reading: date | None = None
    last_reading: date | None = None
    training: int
    rule: str
    level: float
    min_duration: int | None = None
    first_alarm_raw: date | None = None
    first_alarm_gpt: date | None = None
    share_flagged_raw: float | None = None
    share_flagged_gpt: float | None = None
    latest_r2: float | None = None
    latest_betas: dict[str, float | None] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=lambda: [
        ("proxies: the company's own trailing-twelve-month revenue (and capex when asked) as "
         "filed by each date, not the paper's economy-wide technology measures"),
        "per-share price against company totals: buybacks and issuance enter the residual",
        ("log-linear projection with constant slopes over the sample to date, re-estimated "
        "every date"),
        "random-walk critical values applied to a residual: an indication, not an exact test",
    ])


COLUMNS: dict[str, Column] = {
    "log_price": Column("Log price", "log price", "natural log of the adjusted close"),
    "fitted": Column("Explained by adoption", "log price", "the price the projection on the "
                     "proxies known then gives for this date"),
    "resid": Column("What remains of the price", "log points", "log price minus the "
                    "projection (estimated on the data to this date)"),
    "beta_revenue": Column("Slope on revenue", "elasticity", "log price change per log change "
                           "of trailing revenue, estimated to this date"),
    "beta_capex": Column("Slope on capex", "elasticity", "log price change per log change of "
                         "trailing capex, estimated to this date"),
    "r2": Column("Share explained", "fraction 0-1", "R-squared of the projection to this date"),
    "raw_bsadf": Column("BSADF, raw price", "t-statistic", "real-time BSADF of the log price "
                        "over the same dates"),
    "raw_cv": Column("Critical value, raw", "t-statistic", "critical value of the raw BSADF "
                     "for a sample ending here"),
    "raw_alarm": Column("Alarm, raw price", "0/1", "raw BSADF above its critical value"),
    "raw_confirmed": Column("Confirmed episode, raw", "0/1", "inside a raw alarm run that has "
                            "lasted min_duration readings"),
    "gpt_bsadf": Column("BSADF, what remains", "t-statistic", "real-time BSADF of the "
                        "residual after the projection"),
    "gpt_cv": Column("Critical value, what remains", "t-statistic", "random-walk critical "
                     "value for a sample ending here (approximate for a residual)"),
    "gpt_alarm": Column("Alarm, adoption-robust", "0/1", "residual BSADF above its critical "
                        "value"),
    "gpt_confirmed": Column("Confirmed episode, adoption-robust", "0/1", "inside a residual "
                            "alarm run that has lasted min_duration readings"),
    "min_window": Column("Minimum window", "observations", "PSY window of the sample to date"),
}


def compute(ctx: ComputeContext, key: str, params: PsyGptParams) -> IndicatorResult[PsyGptMeta]:
    """Raw and GPT-robust real-time readings of company ``key``."""
    proc = "GPT-robust PSY"
    facts = ctx.source.facts(key)
    if facts is None or facts.empty:
        raise InfeasibleTestError(
            f"{key}: {proc}: no SEC fundamentals to take revenue and capex from; load its "
            "companyfacts with `bubblewatch ingest` (or a CIK##########.json file with "
            "--from-dir)")
    s = sampled_series(key_prices(ctx.source, ctx.universe, key), params.freq, params.start,
                       key=key, procedure=proc)
    proxies, concepts, notes = proxy_frame(facts, pd.DatetimeIndex(s.index), params.proxies,
                                           key=key, max_age_days=params.max_age_days)
    logp = np.log(s.loc[proxies.index])
    try:
        check_length(logp, params.training + 1, key=key, procedure=proc, freq=params.freq,
                     why=f"{params.training} observations with every proxy known, then one "
                         "reading")
    except InfeasibleTestError as exc:
        raise InfeasibleTestError("; ".join([str(exc), *notes])) from None
    res = engine_call(key, lambda: gpt_realtime(
        logp, proxies, training=params.training, rule=params.rule, level=params.level,
        min_duration=params.min_duration))
    frame = res.frame()
    raw_a, gpt_a = frame["raw_alarm"] > 0.5, frame["gpt_alarm"] > 0.5
    meta = PsyGptMeta(
        freq=params.freq, proxies=list(params.proxies), concepts=concepts,
        sample_start=proxies.index[0].date(), first_reading=frame.index[0].date(),
        last_reading=frame.index[-1].date(), training=params.training, rule=params.rule,
        level=params.level, min_duration=res.min_duration,
        first_alarm_raw=frame.index[raw_a][0].date() if raw_a.any() else None,
        first_alarm_gpt=frame.index[gpt_a][0].date() if gpt_a.any() else None,
        share_flagged_raw=float(raw_a.mean()), share_flagged_gpt=float(gpt_a.mean()),
        latest_r2=float(res.r2[-1]),
        latest_betas={p: (float(res.betas[-1, k]) if np.isfinite(res.betas[-1, k]) else None)
                      for k, p in enumerate(res.proxies)},
        note="; ".join(notes) or None,
    )
    events = [*episode_events(res.raw_episodes, series="raw"),
              *episode_events(res.gpt_episodes, series="gpt")]
    events.sort(key=lambda e: e.start)
    return IndicatorResult(frame, meta, tuple(events))


def _company_keys(universe: Universe) -> Sequence[str]:
    return [ins.symbol for ins in universe.with_cik]


INDICATOR = Indicator(
    name="psy_gpt",
    title="Explosiveness net of adoption (GPT-robust PSY)",
    description=(
        "Real-time PSY on what remains of the log price after projecting it on the company's "
        "point-in-time trailing revenue and capex (in the spirit of Huang, Chen, Chen, Li & "
        "Zhang 2026: adoption of a general-purpose technology can make fundamentals look "
        "explosive), beside the raw real-time reading over the same dates."),
    columns=COLUMNS,
    params=PsyGptParams,
    meta=PsyGptMeta,
    keys=_company_keys,
    compute=compute,
    page="explosiveness",
    sampling="weekly from the first week with every proxy known in the filings",
)
