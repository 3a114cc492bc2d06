"""Real-time bubble monitors as indicators: ``monitor_ps2020``,
``monitor_hb``, ``monitor_ahltz`` and ``monitor_bd``.

Each watches the log price of a symbol or of an equal-weighted basket
(``ai_basket``, ``dotcom_basket``), weekly by default, after a training
sample assumed free of bubbles, with a stated control of false alarms over a
monitoring horizon fixed in advance. Every reading uses the data up to its
date only. Fields common to all four: ``statistic`` (the detector),
``boundary`` (its critical value or boundary on that date), ``alarm``
(1 when the detector is above it) and ``excess`` (their difference); events
are the dated alarms.

``monitor_ps2020``: Phillips & Shi (2020)
    :func:`indicators.psy_monitor.monitor_ps2020`. Anchored design: the
    first ``training`` observations train, then every date is read; the BSADF
    statistic (fixed minimum window, the PSY rule on the training sample) is
    compared with a wild-bootstrap critical value recomputed every ``every``
    readings (default ``horizon``) from the data to date, so that the chance
    of at least one false alarm over the next ``horizon`` readings is
    ``1 - level``. Events are runs of alarms with the date each was
    confirmed (``min_duration`` alarms in a row).
``monitor_hb``, ``monitor_ahltz``, ``monitor_bd``: the CUSUM family
    :func:`indicators.cusum.hb_monitor` (Homm & Breitung 2012),
    :func:`~indicators.cusum.ahltz_monitor` (Astill, Harvey, Leybourne,
    Taylor & Zu 2023, robust to volatility shifts) and
    :func:`~indicators.cusum.bd_monitor` (Breitung & Diegel 2025, the
    weighted wCUSUM detector by default). Their boundaries hold the chance of
    any false alarm at ``alpha`` over one horizon, so a long history is read
    as consecutive monitoring windows of ``horizon`` readings, each trained
    on the ``training`` observations just before it (rolling design, windows
    anchored at the first observation after ``start``, so a past window
    never moves). The event of a window is its first alarm (the procedure's
    alarm date); ``end`` is the first reading back below the boundary.

Defaults and why: weekly closes from 1990; ``training=156`` (three years)
and ``horizon=52`` (one year), so each CUSUM window's false-alarm rate is
``alpha = 5%`` a year on a random walk and Phillips-Shi's family-wise rate
is 5% per 52 readings; 199 bootstrap replications (the standard error of a
5% tail is about 1.5 points). Read with the simulated rates in the README:
the CUSUM monitors without volatility correction (HB, BD) false-alarm far
more often than nominal when volatility jumps; AHLTZ does not.

A rolling CUSUM window re-trains on data that may hold a bubble (the
detector restarts at zero each year), so a long run-up raises at most one
alarm per window and only when that year's rise is out of line with the
three years before it. Equity prices drift upwards: the CUSUM detectors test
for a rise faster than the training volatility allows, not for a drift
change, so a strong steady trend also alarms.

Use on any series (the backtest replays them for any end date)::

    from indicators.monitors import rolling_cusum
    path = rolling_cusum(weekly_closes, "hb", training=156, horizon=52)
    path.frame(), path.latest()

References
----------
Astill, S., Harvey, D. I., Leybourne, S. J., Taylor, A. M. R. & Zu, Y. (2023).
CUSUM-based monitoring for explosive episodes in financial data in the
presence of time-varying volatility. *Journal of Financial Econometrics*,
21(1), 187-227.

Breitung, J. & Diegel, M. (2025). Sequential detector statistics for
speculative bubbles. *Journal of Time Series Analysis*, 46(5), 829-845.

Homm, U. & Breitung, J. (2012). Testing for speculative bubbles in stock
markets: a comparison of alternative methods. *Journal of Financial
Econometrics*, 10(1), 198-231.

Phillips, P. C. B. & Shi, S. (2020). Real time monitoring of asset markets:
Bubbles and crises. *Handbook of Statistics* 42, 61-80.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from indicators._monitor_inputs import (
    check_length,
    engine_call,
    key_prices,
    monitor_keys,
    sampled_series,
)
from indicators.cusum import (
    MAX_RATIO,
    MIN_TRAIN_RETURNS,
    MonitorResult,
    ahltz_monitor,
    bd_monitor,
    hb_monitor,
)
from indicators.psy_monitor import PsyMonitorResult, monitor_ps2020
from indicators.psy_realtime import Level, episode_events
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)

Procedure = Literal["hb", "ahltz", "bd"]
PROCEDURES: dict[str, str] = {
    "ps2020": "Phillips & Shi (2020) bootstrap monitor",
    "hb": "Homm & Breitung (2012) CUSUM monitor",
    "ahltz": "Astill, Harvey, Leybourne, Taylor & Zu (2023) volatility-robust CUSUM",
    "bd": "Breitung & Diegel (2025) sequential detector",
}
_ENGINES: dict[str, Callable[..., MonitorResult]] = {
    "hb": hb_monitor, "ahltz": ahltz_monitor, "bd": bd_monitor,
}


# --------------------------------------------------------------------------- #
# Parameters                                                                  #
# --------------------------------------------------------------------------- #
class MonitorParams(Params):
    """Parameters every monitor shares (see the module docstring)."""

    freq: Literal["D", "W", "M"] = Field("W", description="sampling: last close of each day, "
                                         "week (ending Friday) or month")
    start: date | None = Field(date(1990, 1, 1), description="first date of the monitored "
                               "sample (None: all history)")
    training: int = Field(156, ge=MIN_TRAIN_RETURNS + 1, description="observations in the "
                          "training sample (156 weeks = three years)")
    horizon: int = Field(52, ge=1, description="readings over which false alarms are controlled "
                         "(52 weeks = one year)")


class Ps2020Params(MonitorParams):
    """Parameters of ``monitor_ps2020``."""

    level: Level = Field(0.95, description="1 - family-wise false-alarm "
                                             "rate over the horizon")
    lag: int = Field(0, ge=0, le=4, description="lagged differences of the ADF regressions and "
                     "of the bootstrap null model")
    reps: int = Field(199, ge=19, description="bootstrap replications per recomputation")
    every: int | None = Field(None, ge=1, description="recompute the bootstrap critical value "
                              "every this many readings (None: the horizon)")
    weights: Literal["rademacher", "normal"] = Field(
        "rademacher", description="wild-bootstrap multipliers (normal ones leave the bootstrap "
        "undersized; see indicators.cv.wb_horizon_cv)")
    min_duration: int | None = Field(None, ge=1, description="alarms in a row that confirm an "
                                     "episode (None: round(log(training)))")
    seed: int = Field(0, ge=0, description="base seed of the bootstrap (each recomputation date "
                      "has its own stream)")


class CusumParams(MonitorParams):
    """Parameters of the CUSUM monitors."""

    alpha: Literal[0.10, 0.05, 0.025, 0.01] = Field(0.05, description="chance of any false "
                                                    "alarm over one horizon")


class _TabulatedHorizon(CusumParams):
    """Homm-Breitung boundaries are tabulated for horizons up to 19 times the
    training returns."""

    @model_validator(mode="after")
    def _horizon_tabulated(self) -> _TabulatedHorizon:
        most = int(MAX_RATIO * (self.training - 1))
        if self.horizon > most:
            raise ValueError(f"horizon={self.horizon} is more than {MAX_RATIO:g} times the "
                             f"{self.training - 1} training returns (the tabulated boundary "
                             f"constants); use horizon <= {most} or a longer training")
        return self


class HbParams(_TabulatedHorizon):
    """Parameters of ``monitor_hb``."""

    sigma: Literal["recursive", "training"] = Field(
        "recursive", description="volatility: of all returns to date (Homm & Breitung) or of "
        "the training returns")


class AhltzParams(_TabulatedHorizon):
    """Parameters of ``monitor_ahltz``."""

    bandwidth: int = Field(20, ge=2, le=MIN_TRAIN_RETURNS + 100, description="spot volatility: "
                           "the current and this many previous squared returns, Gaussian "
                           "kernel weights")


class BdParams(CusumParams):
    """Parameters of ``monitor_bd``."""

    detector: Literal["cusum", "mcusum", "wcusum"] = Field(
        "wcusum", description="CUSUM (linear boundary), mCUSUM (constant boundary) or the "
        "exponentially weighted wCUSUM")
    c_bar: Literal[1.0, 2.0, 2.1, 3.0, 4.0, 5.0, 6.0, 8.0] = Field(
        2.1, description="weighting of wCUSUM (2.1: the paper's monitoring choice)")


# --------------------------------------------------------------------------- #
# Pure functions                                                              #
# --------------------------------------------------------------------------- #
@dataclass(frozen=True, slots=True)
class MonitorReading:
    """What a monitor said on one date."""

    date: date
    statistic: float
    boundary: float
    alarm: bool
    window_start: date | None = None


@dataclass(frozen=True, slots=True)
class RollingMonitor:
    """A CUSUM monitor read over consecutive windows (see the module docstring).

    ``windows`` holds each window's :class:`~indicators.cusum.MonitorResult`
    (the last one possibly incomplete); the arrays run over every monitored
    date: ``window`` is the number of the window a date belongs to.
    """

    procedure: str
    training: int
    horizon: int
    index: pd.DatetimeIndex
    statistic: np.ndarray
    boundary: np.ndarray
    alarm: np.ndarray
    scale: np.ndarray
    window: np.ndarray
    windows: tuple[MonitorResult, ...]

    def frame(self) -> pd.DataFrame:
        """``statistic``, ``boundary``, ``alarm``, ``excess``, ``scale``,
        ``window`` and ``first_in_window`` (1 on each window's alarm date)."""
        first = np.zeros(self.index.size)
        for k, res in enumerate(self.windows):
            if res.first_alarm_position is not None:
                first[self._offset(k) + res.first_alarm_position - res.train] = 1.0
        return pd.DataFrame({
            "statistic": self.statistic, "boundary": self.boundary,
            "alarm": self.alarm.astype(float), "excess": self.statistic - self.boundary,
            "scale": self.scale, "window": self.window.astype(float), "first_in_window": first,
        }, index=self.index)

    def _offset(self, k: int) -> int:
        return k * self.horizon

    def alarm_dates(self) -> list[date]:
        """The alarm date (first crossing) of every window that alarmed."""
        out = []
        for k, res in enumerate(self.windows):
            if res.first_alarm_position is not None:
                out.append(self.index[self._offset(k) + res.first_alarm_position
                                      - res.train].date())
        return out

    def latest(self) -> MonitorReading:
        k = int(self.window[-1])
        return MonitorReading(date=self.index[-1].date(), statistic=float(self.statistic[-1]),
                              boundary=float(self.boundary[-1]), alarm=bool(self.alarm[-1]),
                              window_start=self.index[self._offset(k)].date())

    def events(self, **attrs: Any) -> list[IndicatorEvent]:
        """One event per window that alarmed: from its first alarm to the first
        reading back below the boundary (``ongoing`` while the alarm holds on
        the last date)."""
        out = []
        n = self.index.size
        for k, res in enumerate(self.windows):
            if res.first_alarm_position is None:
                continue
            lo = self._offset(k)
            first = lo + res.first_alarm_position - res.train
            hi = lo + res.n_monitored
            stop = first
            while stop < hi and self.alarm[stop]:
                stop += 1
            ongoing = stop >= n
            end = None if ongoing else self.index[stop].date()
            seg = slice(first, stop)
            peak = first + int(np.argmax(self.statistic[seg] - self.boundary[seg]))
            out.append(IndicatorEvent(
                kind="alarm", start=self.index[first].date(), end=end,
                peak=self.index[peak].date(), ongoing=ongoing,
                attrs={"window_start": self.index[lo].date().isoformat(),
                       "statistic": float(self.statistic[first]),
                       "boundary": float(self.boundary[first]),
                       "readings": int(stop - first), **attrs}))
        return out


def rolling_cusum(series: pd.Series, procedure: Procedure, *, training: int, horizon: int,
                  log: bool = True, symbol: str | None = None, **kwargs: Any) -> RollingMonitor:
    """Read a CUSUM monitor over consecutive windows of ``horizon`` readings.

    Window ``k`` monitors positions ``training + k * horizon`` to
    ``training + (k + 1) * horizon - 1`` (fewer in the last, incomplete one)
    after training on the ``training`` observations just before them.

    Parameters
    ----------
    series
        Prices (``log=True``) one per date, dates as index.
    procedure
        ``"hb"``, ``"ahltz"`` or ``"bd"``.
    training, horizon
        Observations of each training sample and readings per window.
    kwargs
        Passed to the engine (``alpha``, ``sigma``, ``bandwidth``,
        ``detector``, ``c_bar``).

    Returns
    -------
    RollingMonitor
        Its reading on date ``t`` equals that of ``series[:t]`` (the windows
        are anchored at the first observation).

    Raises
    ------
    InfeasibleTestError, ValueError
        As the engines: training too short, gaps, flat stretches.
    """
    fn = _ENGINES[procedure]
    values = series.astype(float)
    n = len(values)
    parts: list[MonitorResult] = []
    k = 0
    while training + k * horizon < n:
        chunk = values.iloc[k * horizon: training + (k + 1) * horizon]
        parts.append(fn(chunk, training, horizon, log=log, symbol=symbol, **kwargs))
        k += 1
    if not parts:  # nothing after the training sample: let the engine say so
        parts.append(fn(values, training, horizon, log=log, symbol=symbol, **kwargs))
    index = pd.DatetimeIndex(values.index[training:], name="date")
    cat = {name: np.concatenate([getattr(r, name) for r in parts])
           for name in ("statistic", "boundary", "alarm", "scale")}
    window = np.concatenate([np.full(r.n_monitored, k) for k, r in enumerate(parts)])
    return RollingMonitor(procedure=procedure, training=training, horizon=horizon, index=index,
                          statistic=cat["statistic"], boundary=cat["boundary"],
                          alarm=cat["alarm"].astype(bool), scale=cat["scale"], window=window,
                          windows=tuple(parts))


def ps2020_frame(res: PsyMonitorResult) -> pd.DataFrame:
    """The stored fields of a Phillips-Shi monitor result."""
    return pd.DataFrame({
        "statistic": res.bsadf, "boundary": res.cv, "alarm": res.alarm.astype(float),
        "excess": res.bsadf - res.cv, "confirmed": res.confirmed.astype(float),
        "min_window": res.windows.astype(float),
    }, index=pd.DatetimeIndex(res.labels, name="date"))


# --------------------------------------------------------------------------- #
# Metadata and columns                                                        #
# --------------------------------------------------------------------------- #
class MonitorMeta(Meta):
    """What is stored beside each key's monitor readings."""

    procedure: str
    reference: str
    design: str
    false_alarms: str
    freq: str
    start: date | None
    training: int
    horizon: int
    settings: dict[str, float | int | str | None] = Field(default_factory=dict)
    first_reading: date | None = None
    last_reading: date | None = None
    readings: int = 0
    windows: int | None = None
    constant: float | None = None
    alarm_dates: list[date] = Field(default_factory=list)
    first_alarm: date | None = None


_COMMON: dict[str, Column] = {
    "statistic": Column("Detector", "statistic", "the monitor's detector on this date (data to "
                        "date only)"),
    "boundary": Column("Boundary", "statistic", "the critical value or boundary the detector "
                       "is compared with on this date"),
    "alarm": Column("Alarm", "0/1", "1 when the detector is above its boundary"),
    "excess": Column("Detector above boundary", "statistic", "detector minus boundary; above 0 "
                     "on an alarm"),
}
PS2020_COLUMNS: dict[str, Column] = {
    **_COMMON,
    "statistic": Column("BSADF", "t-statistic", "largest ADF statistic over windows ending on "
                        "this date (fixed minimum window)"),
    "boundary": Column("Bootstrap critical value", "t-statistic",
                       "wild-bootstrap quantile of the largest BSADF over the horizon, from "
                       "the data up to the last recomputation"),
    "confirmed": Column("Confirmed episode", "0/1", "inside a run of alarms that has lasted "
                        "min_duration readings"),
    "min_window": Column("Minimum window", "observations", "fixed minimum window of the BSADF "
                         "statistic"),
}
CUSUM_COLUMNS: dict[str, Column] = {
    **_COMMON,
    "scale": Column("Volatility used", "log price per observation",
                    "the volatility the detector divides by on this date"),
    "window": Column("Monitoring window", "count", "number of the monitoring window (0 = the "
                     "first after the training sample)"),
    "first_in_window": Column("Alarm date", "0/1", "1 on the first alarm of its monitoring "
                              "window (the procedure's alarm date)"),
}


def _nominal(params: MonitorParams, rate: float) -> str:
    return (f"chance of at least one false alarm over {params.horizon} readings on a random "
            f"walk: {rate:.1%} (nominal)")


# --------------------------------------------------------------------------- #
# Compute                                                                     #
# --------------------------------------------------------------------------- #
def _series(ctx: ComputeContext, key: str, params: MonitorParams, proc: str) -> pd.Series:
    s = sampled_series(key_prices(ctx.source, ctx.universe, key), params.freq, params.start,
                       key=key, procedure=proc)
    check_length(s, params.training + 1, key=key, procedure=proc, freq=params.freq,
                 why=f"a training sample of {params.training} and one reading")
    return s


def compute_ps2020(ctx: ComputeContext, key: str,
                   params: Ps2020Params) -> IndicatorResult[MonitorMeta]:
    """Phillips-Shi (2020) readings of ``key``."""
    proc = "monitor_ps2020"
    s = _series(ctx, key, params, proc)
    res = engine_call(key, lambda: monitor_ps2020(
        s, training=params.training, horizon=params.horizon, lag=params.lag,
        every=params.every, level=params.level, reps=params.reps, seed=params.seed,
        weights=params.weights, min_duration=params.min_duration, log=True))
    frame = ps2020_frame(res)
    alarms = frame.index[frame["alarm"].to_numpy() > 0.5]
    meta = MonitorMeta(
        procedure=PROCEDURES["ps2020"], reference="Phillips & Shi (2020), Handbook of "
        "Statistics 42", design=(
            f"anchored: {params.training} training observations, then every date; bootstrap "
            f"critical value recomputed every {res.every} readings from the data to date"),
        false_alarms=_nominal(params, 1 - params.level), freq=params.freq, start=params.start,
        training=params.training, horizon=params.horizon,
        settings={"level": params.level, "lag": params.lag, "reps": params.reps,
                  "every": res.every, "weights": params.weights,
                  "min_duration": res.min_duration, "seed": params.seed},
        first_reading=frame.index[0].date(), last_reading=frame.index[-1].date(),
        readings=len(frame), alarm_dates=[e.confirmed_label.date() for e in res.episodes
                                          if e.confirmed_label is not None],
        first_alarm=None if alarms.empty else alarms[0].date(),
    )
    return IndicatorResult(frame, meta, tuple(episode_events(res.episodes,
                                                             procedure="ps2020")))


def _compute_cusum(procedure: Procedure, settings: Callable[[Any], dict[str, Any]]
                   ) -> Callable[[ComputeContext, str, Any], IndicatorResult[MonitorMeta]]:
    def compute(ctx: ComputeContext, key: str, params: Any) -> IndicatorResult[MonitorMeta]:
        proc = f"monitor_{procedure}"
        s = _series(ctx, key, params, proc)
        kw = settings(params)
        path = engine_call(key, lambda: rolling_cusum(
            s, procedure, training=params.training, horizon=params.horizon,
            alpha=params.alpha, symbol=key, **kw))
        frame = path.frame()
        dates = path.alarm_dates()
        meta = MonitorMeta(
            procedure=PROCEDURES[procedure], reference=_REFERENCES[procedure],
            design=(f"rolling: windows of {params.horizon} readings, each trained on the "
                    f"{params.training} observations before it"),
            false_alarms=_nominal(params, params.alpha), freq=params.freq, start=params.start,
            training=params.training, horizon=params.horizon,
            settings={"alpha": params.alpha, **kw}, first_reading=frame.index[0].date(),
            last_reading=frame.index[-1].date(), readings=len(frame),
            windows=len(path.windows), constant=path.windows[0].critical_value,
            alarm_dates=dates, first_alarm=dates[0] if dates else None,
        )
        return IndicatorResult(frame, meta, tuple(path.events(procedure=procedure)))
    return compute


_REFERENCES = {
    "hb": "Homm & Breitung (2012), Journal of Financial Econometrics 10(1)",
    "ahltz": "Astill, Harvey, Leybourne, Taylor & Zu (2023), Journal of Financial "
             "Econometrics 21(1)",
    "bd": "Breitung & Diegel (2025), Journal of Time Series Analysis 46(5)",
}

_SAMPLING = "weekly (last close of each week) by default, one reading per week after the " \
            "training sample"

INDICATORS = (
    Indicator(
        name="monitor_ps2020",
        title="Real-time monitor: Phillips & Shi (2020)",
        description=(
            "Phillips & Shi (2020) real-time bubble monitoring: after a training sample, each "
            "date's BSADF statistic against a wild-bootstrap critical value that holds the "
            "chance of any false alarm over the next horizon (one year) at 5%; alarms and "
            "confirmed episodes, per symbol and basket."),
        columns=PS2020_COLUMNS, params=Ps2020Params, meta=MonitorMeta, keys=monitor_keys,
        compute=compute_ps2020, page="explosiveness", sampling=_SAMPLING,
    ),
    Indicator(
        name="monitor_hb",
        title="Real-time monitor: Homm & Breitung CUSUM",
        description=(
            "Homm & Breitung (2012) CUSUM monitoring of log prices: the cumulated return since "
            "the training sample, in units of volatility, against a boundary that holds the "
            "chance of any false alarm over each one-year window at 5%; the alarm date of each "
            "window, per symbol and basket."),
        columns=CUSUM_COLUMNS, params=HbParams, meta=MonitorMeta, keys=monitor_keys,
        compute=_compute_cusum("hb", lambda p: {"sigma": p.sigma}), page="explosiveness",
        sampling=_SAMPLING,
    ),
    Indicator(
        name="monitor_ahltz",
        title="Real-time monitor: Astill et al. volatility-robust CUSUM",
        description=(
            "Astill, Harvey, Leybourne, Taylor & Zu (2023): the CUSUM monitor with every return "
            "divided by its own spot volatility, so a change in volatility does not set off "
            "alarms; the alarm date of each one-year window, per symbol and basket."),
        columns=CUSUM_COLUMNS, params=AhltzParams, meta=MonitorMeta, keys=monitor_keys,
        compute=_compute_cusum("ahltz", lambda p: {"bandwidth": p.bandwidth}),
        page="explosiveness", sampling=_SAMPLING,
    ),
    Indicator(
        name="monitor_bd",
        title="Real-time monitor: Breitung & Diegel detectors",
        description=(
            "Breitung & Diegel (2025) sequential detectors (the weighted wCUSUM by default) of "
            "log prices against boundaries that hold the chance of any false alarm over each "
            "one-year window at 5%; the alarm date of each window, per symbol and basket."),
        columns=CUSUM_COLUMNS, params=BdParams, meta=MonitorMeta, keys=monitor_keys,
        compute=_compute_cusum("bd", lambda p: {"detector": p.detector, "c_bar": p.c_bar}),
        page="explosiveness", sampling=_SAMPLING,
    ),
)
