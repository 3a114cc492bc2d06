"""Point-in-time replay: what bubblewatch would have read on each date.

:class:`Replay` rebuilds, from prices, filings and the reference table, every
input the composite score reads and every real-time monitor, so that the
reading dated ``D`` uses only what was known on ``D``:

==================  ===========================================================
input               how it is made point in time
==================  ===========================================================
run-up, drawdown,   trailing statistics of closes up to ``D``
volatility          (:func:`indicators.runup.runup_frame`,
                    :func:`~indicators.runup.basket_runup_frame`,
                    :func:`indicators.regime.drawdown`, ``realised_vol``)
high-variance       the regime model refitted on the first reading date of each
probability         year on the weekly returns known then, filtered forward in
                    between (:mod:`indicators.regime_realtime`); for the cohort
                    baskets and ``regime_keys`` only (the other symbols' stress
                    reading has drawdown and volatility)
PSY share           the real-time PSY monitor
                    (:func:`indicators.psy_monitor.monitor_psy`, pointwise rule,
                    95%): BSADF on the weekly log close up to ``D`` against the
                    critical value of a sample ending on ``D`` (shipped tables);
                    never the whole-sample test
valuation, capex,   the indicators' own point-in-time functions on the filings
DSO, revenue gap    filed by ``D`` (:mod:`ingest.pit`), each quarter counted
                    from the day it became known; a DSO quarter counts from
                    its quarter end plus the composite's ``report_lag_days`` or
                    from its filing, whichever is later
LPPLS confidence    AI-cohort members among the ``lppls`` indicator's default
                    keys only, on a coarse grid (every ``lppls_every_weeks``
                    reading dates from ``lppls_start``), each fit counting for
                    1.5 times that spacing (the composite's slack rule, with
                    the spacing fixed in advance, so how long a fit counts
                    never depends on later fits); it only feeds the AI-only
                    sub-score (the headline never uses LPPLS: the dot-com
                    cohort has no fits on its compared date)
==================  ===========================================================

The composite's own functions then score these inputs
(:func:`indicators.composite.cohort_inputs`, :func:`~indicators.composite.partition`,
the Monte Carlo draws and the readings), so a reading here is exactly what
``compute`` scores on the same inputs. Two deliberate differences from the
live page: both cohorts are read on every date of the period (the live
composite reads the AI cohort from 2010 and the dot-com cohort up to 2003),
and which components make the headline and the AI-only sub-score is decided
once, by the live rule applied at the end of the period (the components both
cohorts have on the last date and on the dot-com peak), or given explicitly
(``headline``, ``ai_only``). A symbol is read as a cohort of one member: its
headline and stress readings on the same components.

Real-time monitors, on weekly closes (the last close of each week) from
``monitor_start`` (or listing), ``training`` weeks before the first reading:

* ``psy_pointwise``, ``psy_sadf``: :func:`~indicators.psy_monitor.monitor_psy`
  with the pointwise and the SADF (exuber) critical-value rule; a date is
  flagged while it lies in a positive episode confirmed by then
  (``round(log(training))`` alarms in a row);
* ``ps2020``: :func:`~indicators.psy_monitor.monitor_ps2020`, wild-bootstrap
  critical values recomputed every ``horizon`` weeks, flagged the same way;
* ``hb``, ``ahltz``, ``bd``: :func:`~indicators.cusum.hb_monitor`,
  :func:`~indicators.cusum.ahltz_monitor`,
  :func:`~indicators.cusum.bd_monitor` over consecutive windows of
  ``horizon`` weeks, each trained on the ``training`` weeks before it (windows
  anchored at the first monitored week, so a past window never moves);
  flagged while the detector is above its boundary.

On a daily grid the monitors keep their weekly readings: a day reads the last
complete week's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from bubblewatch.core.errors import ConfigError, InfeasibleTestError
from indicators import capex as capex_ind
from indicators import earnings_quality as eq_ind
from indicators import revenue_gap as gap_ind
from indicators import valuation as val_ind
from indicators.composite import (
    BUILD_UP_NAMES,
    BY_NAME,
    CADENCE_SLACK,
    COHORTS,
    SCORE_BAND_LABELS,
    STRESS_NAMES,
    Cohort,
    CompositeParams,
    Partition,
    _assemble,
    cohort_inputs,
    draw,
    partition,
)
from indicators.cusum import MonitorResult, ahltz_monitor, bd_monitor, hb_monitor
from indicators.frame_source import FrameSource
from indicators.lppls import confidence
from indicators.lppls_indicator import DEFAULT_KEYS as LPPLS_DEFAULT_KEYS
from indicators.psy_indicator import sample
from indicators.psy_monitor import PsyMonitorResult, monitor_ps2020, monitor_psy
from indicators.regime import RegimeParams, drawdown, realised_vol, weekly_log_returns
from indicators.regime_realtime import Refit, realtime_high_var_prob
from indicators.registry import ComputeContext, IndicatorEvent, Params
from indicators.runup import basket_frame, basket_runup_frame, close_series, runup_frame
from ingest.pit import first_release

#: The real-time procedures, in report order, with what flags a date.
PROCEDURES: dict[str, str] = {
    "psy_pointwise": "real-time PSY, pointwise critical values (PSY 2015): in a confirmed "
                     "positive episode",
    "psy_sadf": "real-time PSY, SADF critical values (exuber's rule): in a confirmed positive "
                "episode",
    "ps2020": "Phillips & Shi (2020) wild-bootstrap monitor: in a confirmed positive episode",
    "hb": "Homm & Breitung (2012) CUSUM: detector above its boundary",
    "ahltz": "Astill, Harvey, Leybourne, Taylor & Zu (2023) volatility-robust CUSUM: detector "
             "above its boundary",
    "bd": "Breitung & Diegel (2025) wCUSUM: detector above its boundary",
}
Procedure = Literal["psy_pointwise", "psy_sadf", "ps2020", "hb", "ahltz", "bd"]
COMPOSITE = "composite"
#: Reading columns taken from the composite's frame.
READING_COLUMNS = (
    "score", "score_p05", "score_p95", "coverage", "band", "score_change_same_inputs",
    "ai_only", "ai_only_p05", "ai_only_p95", "ai_only_coverage", "ai_only_change_same_inputs",
    "stress", "stress_coverage",
)
#: Weekly readings are read on a grid date when at most this many days old.
WEEKLY_MAX_AGE_DAYS = 10


class ReplayParams(Params):
    """Parameters of the point-in-time replay (see the module docstring)."""

    start: date = Field(date(1995, 1, 1), description="first reading date")
    end: date | None = Field(None, description="last reading date (None: the last price)")
    freq: Literal["W", "D"] = Field("W", description="reading dates: the last trading day of "
                                    "each week (W) or every trading day (D)")
    monitor_start: date | None = Field(date(1990, 1, 1), description="first weekly close the "
                                       "monitors see (None: all history); the psy indicator's "
                                       "sample")
    training: int = Field(156, ge=21, le=1000, description="weeks before a monitor's first "
                          "reading (156 = three years)")
    horizon: int = Field(52, ge=4, le=520, description="weeks over which a monitor controls "
                         "false alarms (CUSUM window length; Phillips-Shi recomputation step)")
    ps2020_reps: int = Field(199, ge=20, le=5000, description="wild-bootstrap replications of "
                             "the Phillips-Shi monitor per recomputation")
    procedures: tuple[Procedure, ...] = Field(
        tuple(PROCEDURES), min_length=1, description="real-time procedures replayed")
    regime_keys: tuple[str, ...] = Field(
        ("^GSPC", "^IXIC", "^NDX"), description="symbols whose regime model is refitted each "
        "year (the cohort baskets always are; other symbols have no high-variance reading)")
    em_iter: int = Field(60, ge=1, description="EM iterations of each regime refit")
    regime_refit_years: int = Field(1, ge=1, le=50, description="the regime model is refitted "
                                    "on the first reading date of every this many years")
    lppls_start: date = Field(date(2010, 1, 1), description="first LPPLS fit date (AI-only "
                              "sub-score)")
    lppls_every_weeks: int = Field(13, ge=1, description="LPPLS fits every this many reading "
                                   "weeks (coarse grid), each counting for 1.5 times this "
                                   "spacing")
    lppls_keys: tuple[str, ...] | None = Field(
        None, description="symbols fitted with LPPLS (None: the lppls indicator's default keys "
        "that are AI-cohort members)")
    headline: tuple[str, ...] | None = Field(
        None, description="headline components (None: the live rule at the end of the period)")
    ai_only: tuple[str, ...] | None = Field(
        None, description="AI-only components (None: the live rule at the end of the period)")
    warn_band: Literal["moderate", "elevated", "high", "extreme"] = Field(
        "high", description="headline band from which a reading counts as a warning")
    mc_draws: int = Field(400, ge=20, le=20000, description="Monte Carlo draws of the "
                          "uncertainty band (as the composite)")

    @field_validator("headline", "ai_only")
    @classmethod
    def _components(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        bad = [c for c in v if c not in BUILD_UP_NAMES]
        if bad:
            raise ValueError(f"unknown build-up component(s) {', '.join(bad)}; known: "
                             f"{', '.join(BUILD_UP_NAMES)}")
        return v


@dataclass
class KeyMonitors:
    """One key's monitor results on its weekly series (None where infeasible)."""

    psy: dict[str, PsyMonitorResult | None] = field(default_factory=dict)
    cusum: dict[str, list[MonitorResult]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


class StageClock:
    """Wall time per stage, each second counted once: time spent in a stage
    entered inside another (a symbol's regime refit made while its composite
    reading is assembled) counts for the inner stage only, so the stages add
    up to the time spent in any of them.

    Parameters
    ----------
    clock
        Seconds from an arbitrary origin (:func:`time.perf_counter`).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.clock = clock
        self.seconds: dict[str, float] = {}
        self._inner: list[float] = []  # time taken by inner stages, per open stage

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t0 = self.clock()
        self._inner.append(0.0)
        try:
            yield
        finally:
            spent = self.clock() - t0
            inner = self._inner.pop()
            self.seconds[stage] = self.seconds.get(stage, 0.0) + spent - inner
            if self._inner:
                self._inner[-1] += spent


class Replay:
    """Lazily built point-in-time inputs and readings of one replay.

    Everything is computed on first use and kept, so the keys of one run
    share the members' monitors, the baskets and the partition.
    ``seconds`` holds the wall time of each stage (for the report; each
    second counted in one stage only, see :class:`StageClock`).
    """

    def __init__(self, ctx: ComputeContext, params: ReplayParams):
        self.source = ctx.source
        self.universe = ctx.universe
        self.ctx = ctx
        self.p = params
        self._clock = StageClock()
        self.seconds = self._clock.seconds
        self.notes: list[str] = []
        self._cache: dict[tuple[Any, ...], Any] = {}
        self.grid = self._grid()

    # ------------------------------------------------------------------ plumbing
    def _timed(self, stage: str) -> AbstractContextManager[None]:
        return self._clock.timed(stage)

    def _memo(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    # ------------------------------------------------------------------ keys and dates
    @property
    def cohorts(self) -> list[str]:
        """Cohort keys the universe has baskets for."""
        return [c for c, b in COHORTS.items() if b in self.universe.baskets]

    def keys(self) -> list[str]:
        """Every key a replay can read: the cohorts, then the symbols."""
        return [*self.cohorts, *self.universe.symbols]

    def check_key(self, key: str) -> None:
        """Raise :class:`ConfigError` naming ``key`` and the keys there are."""
        if key not in self.keys():
            raise ConfigError(f"{key!r} is not a cohort or symbol of the universe; available: "
                              f"{', '.join(self.keys())}")

    def members(self, cohort: str) -> list[str]:
        return list(self.universe.baskets.get(COHORTS[cohort], ()))

    def closes(self, symbol: str, column: str = "adj_close") -> pd.Series:
        """Daily closes (total return by default) of ``symbol``."""
        return self._memo(("closes", symbol, column),
                          lambda: close_series(self.source, symbol, column))

    def basket(self, cohort: str) -> pd.DataFrame:
        """The cohort's equal-weighted basket (``level``, ``n_members``)."""
        return self._memo(("basket", cohort), lambda: basket_frame(
            {m: self.closes(m) for m in self.members(cohort)}))

    def level(self, key: str) -> pd.Series:
        """The key's daily price path: total-return closes or the basket level."""
        if key in COHORTS:
            return self.basket(key)["level"].astype(float).rename(key)
        return self.closes(key)

    def _grid(self) -> pd.DatetimeIndex:
        days: pd.DatetimeIndex = pd.DatetimeIndex([])
        for sym in self.universe.symbols:
            days = days.union(self.closes(sym).index)
        if not len(days):
            raise ConfigError("no prices in the database for any symbol of the universe; load "
                              "them with `bubblewatch ingest` (or `--from-dir DIR`)")
        self.calendar = pd.DatetimeIndex(days, name="date")
        first, last = days[0].date(), days[-1].date()
        start = pd.Timestamp(self.p.start)
        if self.p.end is not None and self.p.start > self.p.end:
            raise ConfigError(f"backtest period {self.p.start} to {self.p.end} is empty: the "
                              "start is after the end")
        end = pd.Timestamp(self.p.end) if self.p.end is not None else days[-1]
        days = days[(days >= start) & (days <= end)]
        if not len(days):
            raise ConfigError(f"no prices between {self.p.start} and {end.date()}; the data "
                              f"run from {first} to {last}: choose a period inside it")
        if self.p.freq == "W":
            weeks = pd.Index(days.to_period("W-FRI"))
            days = days[~weeks.duplicated(keep="last")]
        return pd.DatetimeIndex(days, name="date")

    def _on_grid(self, s: pd.Series, max_age_days: int = WEEKLY_MAX_AGE_DAYS) -> pd.Series:
        """The last value of ``s`` on or before each grid date, at most
        ``max_age_days`` old (NaN otherwise)."""
        s = s.dropna().sort_index()
        if s.empty:
            return pd.Series(np.nan, index=self.grid)
        t = pd.DatetimeIndex(s.index).to_numpy("datetime64[ns]")
        g = self.grid.to_numpy("datetime64[ns]")
        pos = np.searchsorted(t, g, side="right") - 1
        ok = pos >= 0
        age = np.where(ok, (g - t[np.maximum(pos, 0)]) / np.timedelta64(1, "D"), np.inf)
        vals = s.to_numpy(dtype=float)[np.maximum(pos, 0)]
        return pd.Series(np.where(ok & (age <= max_age_days), vals, np.nan), index=self.grid)

    # ------------------------------------------------------------------ monitors
    def weekly(self, key: str) -> pd.Series:
        """Weekly log level of ``key`` from ``monitor_start`` to the last reading
        date: what the monitors read (a reading never depends on later weeks, so
        they are not monitored)."""
        def make() -> pd.Series:
            lv = self.level(key)
            lv = lv[lv.index <= self.grid[-1]]
            if self.p.monitor_start is not None:
                lv = lv[lv.index >= pd.Timestamp(self.p.monitor_start)]
            return np.log(sample(lv, "W"))
        return self._memo(("weekly", key), make)

    def monitors(self, key: str) -> KeyMonitors:
        """Every selected procedure on ``key``'s weekly series."""
        return self._memo(("monitors", key), lambda: self._monitors(key))

    def _monitors(self, key: str) -> KeyMonitors:
        y = self.weekly(key)
        out = KeyMonitors()
        p = self.p
        for proc in p.procedures:
            with self._timed(proc):
                try:
                    if proc in ("psy_pointwise", "psy_sadf"):
                        out.psy[proc] = self.psy(key, "pointwise" if proc == "psy_pointwise"
                                                 else "sadf")
                    elif proc == "ps2020":
                        out.psy[proc] = monitor_ps2020(
                            y, training=p.training, horizon=p.horizon, reps=p.ps2020_reps,
                            seed=0)
                    else:
                        out.cusum[proc] = rolling_cusum(y, proc, training=p.training,
                                                        horizon=p.horizon, symbol=key)
                except (InfeasibleTestError, ValueError) as exc:
                    out.notes[proc] = str(exc)
                    if proc in ("hb", "ahltz", "bd"):
                        out.cusum[proc] = []
                    else:
                        out.psy[proc] = None
        return out

    def psy(self, key: str, rule: Literal["pointwise", "sadf"] = "pointwise"
            ) -> PsyMonitorResult:
        """The real-time PSY monitor of ``key`` (95%, shipped tables)."""
        return self._memo(("psy", key, rule), lambda: monitor_psy(
            self.weekly(key), training=self.p.training, rule=rule, level=0.95))

    def flags(self, key: str) -> pd.DataFrame:
        """Per grid date, 1/0 for each procedure (NaN before its first reading)."""
        mon = self.monitors(key)
        cols: dict[str, pd.Series] = {}
        for proc in self.p.procedures:
            if proc in mon.psy:
                res = mon.psy[proc]
                cols[proc] = (self._on_grid(positive_confirmed(res)) if res is not None
                              else pd.Series(np.nan, index=self.grid))
            else:
                cols[proc] = self._on_grid(cusum_alarms(mon.cusum.get(proc, [])))
        return pd.DataFrame(cols, index=self.grid)

    def monitor_events(self, key: str) -> list[IndicatorEvent]:
        """Confirmed real-time episodes and CUSUM alarms of ``key`` that touch the period."""
        mon = self.monitors(key)
        lo, hi = self.grid[0], self.grid[-1]
        events: list[IndicatorEvent] = []
        for proc, res in mon.psy.items():
            if res is None:
                continue
            for e in res.episodes:
                if e.confirmed_label is None:
                    continue
                conf = pd.Timestamp(e.confirmed_label)
                end = None if e.end_label is None else pd.Timestamp(e.end_label)
                if conf > hi or (end is not None and end < lo):
                    continue
                events.append(IndicatorEvent(
                    kind=proc, start=pd.Timestamp(e.start_label).date(),
                    end=None if end is None else end.date(),
                    peak=pd.Timestamp(e.peak_label).date(), ongoing=e.ongoing,
                    attrs={"direction": e.kind, "confirmed": conf.date().isoformat(),
                           "duration": e.duration, "peak_stat": float(e.peak_stat)}))
        for proc, windows in mon.cusum.items():
            for res in windows:
                for start, end in alarm_spells(res):
                    if start > hi or (end is not None and end < lo):
                        continue
                    idx = res.monitor_index
                    events.append(IndicatorEvent(
                        kind=proc, start=start.date(), end=None if end is None else end.date(),
                        ongoing=end is None,
                        attrs={"window_start": pd.Timestamp(idx[0]).date().isoformat(),
                               "window_end": pd.Timestamp(idx[-1]).date().isoformat(),
                               "constant": float(res.critical_value)}))
        events.sort(key=lambda e: (e.start, e.kind))
        return events

    # ------------------------------------------------------------------ composite inputs
    def runup(self, key: str) -> pd.DataFrame:
        """Daily run-up statistics of ``key`` (a basket over the members priced at
        both ends of each window)."""
        def make() -> pd.DataFrame:
            market_sym = self.universe.market_index
            market = None if key == market_sym else self.closes(market_sym, "close")
            if key in COHORTS:
                ms = self.members(key)
                return basket_runup_frame({m: self.closes(m) for m in ms},
                                          {m: self.closes(m, "close") for m in ms}, market)
            price = self.closes(key)
            if price.empty:
                return pd.DataFrame()
            return runup_frame(price, market, price_only=self.closes(key, "close"))
        with self._timed("runup"):
            return self._memo(("runup", key), make)

    def refit_dates(self) -> list[pd.Timestamp]:
        """The first reading date, then the first reading date of every
        ``regime_refit_years``-th later year (counted from the first)."""
        years = pd.Index(self.grid.year)
        firsts = self.grid[~years.duplicated(keep="first")]
        step = self.p.regime_refit_years
        return [d for d in firsts if (d.year - firsts[0].year) % step == 0]

    def regime(self, key: str) -> pd.DataFrame:
        """Daily drawdown, realised volatility and (baskets and ``regime_keys``)
        the point-in-time high-variance probability of ``key``."""
        return self._memo(("regime", key), lambda: self._regime(key))

    def _regime(self, key: str) -> pd.DataFrame:
        lv = self.level(key)
        if lv.empty:
            return pd.DataFrame()
        frame = pd.DataFrame({"drawdown": drawdown(lv), "realised_vol": realised_vol(lv)})
        frame["high_var_prob"] = np.nan
        if key in COHORTS or key in self.p.regime_keys:
            with self._timed("regime refits"):
                weekly = weekly_log_returns(lv)
                fit_start = RegimeParams().fit_start
                if fit_start is not None:
                    weekly = weekly[weekly.index >= pd.Timestamp(fit_start)]
                probs, refits = realtime_high_var_prob(weekly, self.refit_dates(),
                                                       em_iter=self.p.em_iter)
                self._cache[("refits", key)] = refits
            daily = probs.reindex(frame.index.union(probs.index)).ffill()
            frame["high_var_prob"] = daily.reindex(frame.index)
        if key in COHORTS:
            n = self.basket(key)["n_members"].reindex(frame.index)
            frame["n_members"] = n
            frame["coverage"] = n / max(len(self.members(key)), 1)
        return frame

    def refits(self, key: str) -> list[Refit]:
        self.regime(key)
        return list(self._cache.get(("refits", key), []))

    def psy_frame(self, symbol: str) -> pd.DataFrame:
        """``bsadf`` and ``cv95`` of the real-time pointwise monitor (the
        columns the composite's PSY component reads)."""
        def make() -> pd.DataFrame:
            try:
                res = self.psy(symbol, "pointwise")
            except (InfeasibleTestError, ValueError):
                return pd.DataFrame()
            return pd.DataFrame({"bsadf": res.bsadf, "cv95": res.cv},
                                index=pd.DatetimeIndex(res.labels, name="date"))
        return self._memo(("psy_frame", symbol), make)

    def lppls_keys(self) -> list[str]:
        if self.p.lppls_keys is not None:
            return [k for k in self.p.lppls_keys if k in self.universe.symbols]
        ai = set(self.members("ai")) if "ai" in self.cohorts else set()
        return [k for k in LPPLS_DEFAULT_KEYS if k in ai and k in self.universe.symbols]

    def lppls(self, symbol: str) -> pd.DataFrame:
        """Positive LPPLS confidence of ``symbol`` (``pos_conf``) on the grid: each
        coarse-grid fit read from its date for as long as the composite keeps an
        input of that spacing fresh (1.5 times the spacing), NaN after. The
        spacing is fixed in advance, so how long a fit counts never depends on
        later fits (the composite infers it from the stored dates)."""
        return self._memo(("lppls", symbol), lambda: self._lppls(symbol))

    def lppls_keep_days(self) -> int:
        """Days a coarse-grid LPPLS fit counts (see :meth:`lppls`)."""
        spacing = 7 * self.p.lppls_every_weeks
        return max(BY_NAME["lppls"].max_age_days, math.ceil(CADENCE_SLACK * spacing))

    def _lppls(self, symbol: str) -> pd.DataFrame:
        px = self.closes(symbol)
        dates = self.grid[self.grid >= pd.Timestamp(self.p.lppls_start)]
        if self.p.freq == "W":
            dates = dates[::self.p.lppls_every_weeks]
        else:  # every n weeks of the daily grid: the first day of every n-th week
            weeks = pd.Index(dates.to_period("W-FRI"))
            firsts = dates[~weeks.duplicated(keep="first")]
            dates = firsts[::self.p.lppls_every_weeks]
        pos = np.searchsorted(px.index.to_numpy("datetime64[ns]"),
                              dates.to_numpy("datetime64[ns]"), side="right") - 1
        pos = np.unique(pos[pos >= 749])
        if not pos.size:
            return pd.DataFrame()
        with self._timed("lppls"):
            res = confidence(px, [int(p) for p in pos])
        fits = pd.Series(res.to_frame(dates=False)["pos_conf"].astype(float).to_numpy(),
                         index=pd.DatetimeIndex(px.index[pos], name="date"))
        return pd.DataFrame({"pos_conf": self._on_grid(fits, self.lppls_keep_days())})

    def fundamentals(self) -> dict[tuple[str, str], pd.DataFrame]:
        """Valuation of every cohort member with filings; the hyperscaler capex
        total; the vendor's DSO and revenue gap (all point in time)."""
        return self._memo(("fundamentals",), self._fundamentals)

    def _fundamentals(self) -> dict[tuple[str, str], pd.DataFrame]:
        out: dict[tuple[str, str], pd.DataFrame] = {}
        cp = CompositeParams()
        with self._timed("fundamentals"):
            members = sorted({m for c in self.cohorts for m in self.members(c)})
            for m in members:
                try:
                    if self.universe.get(m).cik is None:
                        continue
                except KeyError:
                    continue
                res = val_ind.compute(self.ctx, m, val_ind.ValuationParams(daily_days=0))
                if not res.frame.empty:
                    out[("valuation", m)] = res.frame
            if "hyperscalers" in self.universe.baskets:
                res = capex_ind.compute(self.ctx, capex_ind.TOTAL_KEY, capex_ind.CapexParams())
                out[("capex", capex_ind.TOTAL_KEY)] = res.frame
            if cp.vendor in self.universe.symbols:
                eq = eq_ind.compute(self.ctx, cp.vendor, eq_ind.EarningsQualityParams()).frame
                out[("earnings_quality", cp.vendor)] = dso_when_known(
                    eq, self.source.facts(cp.vendor), cp.report_lag_days)
                gap = gap_ind.compute(self.ctx, cp.vendor, gap_ind.RevenueGapParams()).frame
                out[("revenue_gap", cp.vendor)] = gap
        return out

    def inputs(self) -> FrameSource:
        """The point-in-time inputs as the stored results the composite reads."""
        def make() -> FrameSource:
            results = dict(self.fundamentals())
            for c in self.cohorts:
                b = COHORTS[c]
                results[("runup", b)] = self.runup(c)
                results[("regime", b)] = self.regime(c)
                for m in self.members(c):
                    with self._timed("psy_pointwise"):
                        results[("psy", m)] = self.psy_frame(m)
            for s in self.lppls_keys():
                results[("lppls", s)] = self.lppls(s)
            return FrameSource(results=results)
        return self._memo(("inputs",), make)

    def composite_params(self) -> CompositeParams:
        return CompositeParams(ai_window=(self.p.start, None),
                               dotcom_window=(self.p.start, None), mc_draws=self.p.mc_draws)

    def cohort(self, name: str) -> Cohort:
        """Inputs of cohort ``name`` on the grid (not yet scored)."""
        return self._memo(("cohort", name), lambda: Cohort(name, self.grid, cohort_inputs(
            self.inputs(), self.universe, name, self.grid, self.composite_params())))

    def partition(self) -> Partition:
        """Which components make each reading (given, or the live rule at the end)."""
        return self._memo(("partition",), self._partition)

    def _partition(self) -> Partition:
        # the live rule: the components the AI cohort has on the last date and the
        # dot-com cohort on its peak (the last trading day on or before it, read
        # whether or not the period covers it)
        cp = self.composite_params()
        ai = self.cohort("ai") if "ai" in self.cohorts else None
        before = self.calendar[self.calendar <= pd.Timestamp(cp.dotcom_peak_date)]
        dot_day = before[-1] if len(before) else None
        dot = None
        if "dotcom" in self.cohorts and dot_day is not None:
            dot = cohort_inputs(self.inputs(), self.universe, "dotcom",
                                pd.DatetimeIndex([dot_day], name="date"), cp)
        live = partition(ai.inputs if ai else None, self.grid[-1], dot, dot_day)
        if self.p.headline is None and self.p.ai_only is None:
            return live
        head = self.p.headline if self.p.headline is not None else live.headline
        only = self.p.ai_only if self.p.ai_only is not None else tuple(
            c for c in live.ai_only if c not in head)
        excluded = {c: "not chosen for this replay" for c in BUILD_UP_NAMES
                    if c not in head and c not in only}
        return Partition(tuple(head), tuple(only), STRESS_NAMES, excluded)

    def draws(self) -> Any:
        cp = self.composite_params()
        return self._memo(("draws",), lambda: draw(cp.mc_draws, cp.mc_seed,
                                                   cp.mc_concentration, cp.mc_bound_jitter))

    def readings(self, key: str) -> pd.DataFrame:
        """The composite's readings of ``key`` on the grid: the cohort's, or a
        symbol's as a cohort of one (headline and stress)."""
        return self._memo(("readings", key), lambda: self._readings(key))

    def _readings(self, key: str) -> pd.DataFrame:
        part = self.partition()
        with self._timed("composite"):
            if key in COHORTS:
                c = replace(self.cohort(key))
                _assemble(c, part, self.draws())
            else:
                basket = COHORTS["dotcom"]
                src = FrameSource(results={("runup", basket): self.runup(key),
                                           ("regime", basket): self.regime(key),
                                           ("psy", key): self.psy_frame(key)})
                one = replace(self.universe, baskets={basket: (key,)})
                c = Cohort("dotcom", self.grid, cohort_inputs(
                    src, one, "dotcom", self.grid, self.composite_params()))
                _assemble(c, Partition(part.headline, (), part.stress, part.excluded),
                          self.draws())
        frame = c.frame.reindex(self.grid)
        comps = [f"c_{n}" for n in (*part.headline, *part.stress,
                                    *(part.ai_only if key == "ai" else ()))]
        keep = [col for col in (*READING_COLUMNS, *comps) if col in frame.columns]
        return frame[keep]

    def warning(self, key: str) -> pd.Series:
        """1 where the headline is in ``warn_band`` or above, 0 below, NaN without a reading."""
        r = self.readings(key)
        edge = SCORE_BAND_LABELS.index(self.p.warn_band)
        return (r["band"] >= edge).astype(float).where(r["band"].notna())


# --------------------------------------------------------------------------- helpers
_ENGINES: dict[str, Callable[..., MonitorResult]] = {
    "hb": hb_monitor, "ahltz": ahltz_monitor, "bd": bd_monitor}


def rolling_cusum(y: pd.Series, procedure: str, *, training: int, horizon: int,
                  symbol: str | None = None) -> list[MonitorResult]:
    """A CUSUM monitor over consecutive windows of ``horizon`` readings, each
    trained on the ``training`` observations just before it; window ``k``
    reads positions ``training + k * horizon`` onwards. A window the engine
    refuses (a flat stretch, a gap) is left out; the others stand."""
    fn = _ENGINES[procedure]
    out = []
    k = 0
    while training + k * horizon < len(y):
        chunk = y.iloc[k * horizon: training + (k + 1) * horizon]
        try:
            out.append(fn(chunk, training, horizon, symbol=symbol))
        except (InfeasibleTestError, ValueError):
            pass
        k += 1
    if not out and len(y) <= training:
        raise InfeasibleTestError(f"{procedure} ({symbol}): {len(y)} weekly closes; the "
                                  f"monitor needs more than training={training}")
    return out


def cusum_alarms(windows: list[MonitorResult]) -> pd.Series:
    """1/0 per monitored date: the detector above its boundary."""
    parts = [pd.Series(res.alarm.astype(float), index=pd.DatetimeIndex(res.monitor_index))
             for res in windows]
    if not parts:
        return pd.Series(dtype=float)
    return pd.concat(parts).sort_index()


def alarm_spells(res: MonitorResult) -> list[tuple[pd.Timestamp, pd.Timestamp | None]]:
    """(first alarm, first date back below the boundary or None) of each run of
    alarms in one monitoring window."""
    idx = pd.DatetimeIndex(res.monitor_index)
    a = np.asarray(res.alarm, dtype=bool)
    edges = np.diff(np.r_[0, a.astype(np.int8), 0])
    out = []
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        out.append((idx[s], idx[e] if e < len(idx) else None))
    return out


def positive_confirmed(res: PsyMonitorResult) -> pd.Series:
    """1/0 per monitored date: inside a positive episode confirmed by then."""
    flag = np.zeros(res.positions.size)
    first = int(res.positions[0])
    for e in res.episodes:
        if e.confirmed is None or e.kind != "positive":
            continue
        stop = res.positions[-1] + 1 if e.end is None else e.end
        flag[e.confirmed - first: stop - first] = 1.0
    return pd.Series(flag, index=pd.DatetimeIndex(res.labels))


def dso_when_known(eq: pd.DataFrame, facts: pd.DataFrame, lag_days: int) -> pd.DataFrame:
    """The DSO frame re-dated so that the composite, which counts a quarter
    from its end plus ``lag_days``, counts it no earlier than the day its
    revenue and receivables were both filed (:func:`ingest.pit.first_release`)."""
    if eq.empty or facts is None or facts.empty:
        return eq
    known = []
    for metric in ("revenue", "receivables"):
        q = first_release(facts, metric)
        if q.empty:
            continue
        known.append(pd.Series(pd.to_datetime(q["known_since"]).to_numpy(),
                               index=pd.DatetimeIndex(q["period_end"])))
    if not known:
        return eq
    k = pd.concat(known, axis=1, sort=True).max(axis=1)
    k = k[~k.index.duplicated(keep="last")].reindex(eq.index)
    earliest = pd.Series(eq.index, index=eq.index) + pd.Timedelta(days=lag_days)
    late = (k > earliest).fillna(False).to_numpy()
    if not late.any():
        return eq
    out = eq.copy()
    new = eq.index.to_numpy().copy()
    new[late] = (k[late] - pd.Timedelta(days=lag_days)).to_numpy()
    out.index = pd.DatetimeIndex(new, name=eq.index.name)
    return out.sort_index()


def realtime_inputs_note(params: ReplayParams) -> list[str]:
    """What the replay does differently from the live tool, for the metadata."""
    return [
        "PSY share from the real-time monitor (pointwise rule, 95%), not the whole-sample test",
        (f"high-variance probability refitted every {params.regime_refit_years} year(s) on the "
         "weekly returns known then"),
        (f"LPPLS on a coarse grid (every {params.lppls_every_weeks} reading weeks from "
         f"{params.lppls_start}) for the AI-only sub-score, each fit counting for 1.5 times "
         "that spacing"),
        "both cohorts read on every date of the period",
    ]

