"""Real-time (point-in-time) PSY as a stored reading: indicator ``psy_rt``.

The whole-sample ``psy`` indicator answers "was there a bubble somewhere in
this history?" with hindsight: its critical values, minimum window and GSADF
gate belong to the whole sample, so a reading for 1999 changes when 2026 data
arrive. ``psy_rt`` answers what could have been said on each date: the
reading on date ``t`` uses the prices up to ``t`` only
(:func:`indicators.psy_monitor.monitor_psy`): the BSADF statistic with the
PSY window of the sample up to ``t`` against the Monte Carlo critical value of
a sample ending at ``t`` (shipped tables, no simulation), and the GSADF of the
sample up to ``t``. A stored reading never changes when later data arrive.

Three alarm rules are stored side by side (``alarm_pointwise``,
``alarm_sadf``, ``alarm_gated``); parameter ``rule`` picks the one behind
``alarm``, ``confirmed``, ``excess`` and the dated episodes:

* ``"pointwise"``: BSADF above its own quantile at ``t`` (PSY 2015); 5% of
  calm dates alarm by construction.
* ``"sadf"`` (default): BSADF above the SADF critical value of the sample up
  to ``t`` (exuber's rule for BSADF sequences): higher, about a fifth of the
  pointwise rule's alarms on a random walk.
* ``"gated"``: the pointwise rule, and the GSADF of the sample up to ``t``
  above its critical value (exuber's whole-sample gate, made point in time).
  After a first large episode GSADF stays high, so the gate only bites before
  the first episode of the history.

An episode is *confirmed* on the day it has lasted ``min_duration`` readings
(default ``round(log(training))``, five weeks with three years of weekly
training); events carry that date. Simulated false-alarm rates of each rule
are in the README ("Real-time monitoring") and in
:mod:`indicators.psy_monitor`.

Defaults: weekly closes from 1990 (the ``psy`` indicator's sample), a training
sample of 156 weeks (three years) before the first reading, lag 0, level 95%.
Series longer than the shipped tables (5,031 observations: daily data over
more than twenty years) are refused with a note; use weekly sampling.

Use on any series (the backtest replays it for any end date)::

    from indicators.psy_realtime import psy_realtime
    path = psy_realtime(weekly_closes, training=156)   # every reading
    path.latest()                                       # the reading on the last date

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.

Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Limit theory of real-time detectors. *International Economic Review*, 56(4),
1079-1134.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, Field

from indicators._monitor_inputs import (
    check_length,
    engine_call,
    key_prices,
    monitor_keys,
    sampled_series,
)
from indicators.psy_monitor import (
    MonitorEpisode,
    PsyMonitorResult,
    monitor_psy,
    realtime_episodes,
)
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)

Rule = Literal["pointwise", "sadf", "gated"]
RULES: tuple[str, ...] = ("pointwise", "sadf", "gated")
RULE_WORDS: dict[str, str] = {
    "pointwise": "BSADF above its pointwise critical value (PSY 2015)",
    "sadf": "BSADF above the SADF critical value of the sample to date (exuber's rule)",
    "gated": "BSADF above its pointwise critical value while the GSADF of the sample to date "
             "rejects",
}


def percent_to_fraction(v: Any) -> Any:
    """Accept 95 for 0.95 (and numeric strings from the command line)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return v
    return round(x / 100.0, 4) if x > 1 else x


#: A confidence level: 0.90, 0.95 or 0.99 (95 is read as 0.95).
Level = Annotated[Literal[0.90, 0.95, 0.99], BeforeValidator(percent_to_fraction)]


class PsyRtParams(Params):
    """Parameters of ``psy_rt`` (see the module docstring)."""

    freq: Literal["D", "W", "M"] = Field("W", description="sampling: last close of each day, "
                                         "week (ending Friday) or month")
    start: date | None = Field(date(1990, 1, 1), description="first date of the monitored "
                               "sample (None: all history)")
    training: int = Field(156, ge=9, description="observations before the first reading "
                          "(156 weeks = three years)")
    lag: int = Field(0, ge=0, le=4, description="lagged differences of the ADF regressions "
                     "(0-4: the shipped critical-value tables)")
    rule: Rule = Field("sadf", description="alarm rule behind alarm, confirmed, excess and the "
                       "episodes: pointwise, sadf or gated")
    level: Level = Field(0.95, description="confidence level of the "
                                             "critical values")
    min_duration: int | None = Field(None, ge=1, description="alarms in a row that confirm an "
                                     "episode (None: round(log(training)))")


@dataclass(frozen=True, slots=True)
class RealtimeReading:
    """The real-time PSY reading on one date (what the monitor said that day)."""

    date: date
    bsadf: float
    cv_pointwise: float
    cv_sadf: float
    gsadf: float
    gsadf_cv: float
    alarms: dict[str, bool]
    rule: str
    alarm: bool
    confirmed: bool


@dataclass(frozen=True, slots=True)
class RealtimePsy:
    """Every real-time PSY reading of one series under the three rules.

    ``pointwise`` is :func:`monitor_psy` with the pointwise rule and the GSADF
    gate (it carries BSADF, GSADF and both critical values); ``sadf`` the same
    readings against the SADF-rule critical value. ``alarms`` maps each rule
    to its alarm per reading; ``episodes`` and ``confirmed`` belong to
    ``rule``.
    """

    pointwise: PsyMonitorResult
    sadf: PsyMonitorResult
    rule: str
    alarms: dict[str, np.ndarray]
    confirmed: np.ndarray
    episodes: tuple[MonitorEpisode, ...]
    min_duration: int

    @property
    def index(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.pointwise.labels, name="date")

    @property
    def cv(self) -> np.ndarray:
        """Critical value of ``rule`` (the pointwise one for ``"gated"``)."""
        return self.sadf.cv if self.rule == "sadf" else self.pointwise.cv

    def frame(self) -> pd.DataFrame:
        """One row per reading, the fields of :data:`COLUMNS` (alarms as 0/1)."""
        pw = self.pointwise
        assert pw.gsadf is not None and pw.gsadf_cv is not None
        data: dict[str, Any] = {
            "series": pw.series[pw.positions],
            "bsadf": pw.bsadf,
            "cv_pointwise": pw.cv,
            "cv_sadf": self.sadf.cv,
            "gsadf": pw.gsadf,
            "gsadf_cv": pw.gsadf_cv,
            "min_window": pw.windows,
            **{f"alarm_{r}": self.alarms[r] for r in RULES},
            "alarm": self.alarms[self.rule],
            "confirmed": self.confirmed,
            "excess": pw.bsadf - self.cv,
        }
        return pd.DataFrame(data, index=self.index).astype(float)

    def latest(self) -> RealtimeReading:
        """The reading on the last date."""
        pw = self.pointwise
        assert pw.gsadf is not None and pw.gsadf_cv is not None
        return RealtimeReading(
            date=self.index[-1].date(), bsadf=float(pw.bsadf[-1]), cv_pointwise=float(pw.cv[-1]),
            cv_sadf=float(self.sadf.cv[-1]), gsadf=float(pw.gsadf[-1]),
            gsadf_cv=float(pw.gsadf_cv[-1]),
            alarms={r: bool(self.alarms[r][-1]) for r in RULES}, rule=self.rule,
            alarm=bool(self.alarms[self.rule][-1]), confirmed=bool(self.confirmed[-1]))


def psy_realtime(series: pd.Series, *, training: int, lag: int = 0, level: float = 0.95,
                 rule: str = "sadf", min_duration: int | None = None,
                 log: bool = True) -> RealtimePsy:
    """Real-time PSY readings of ``series`` (already sampled; dates as index).

    Parameters
    ----------
    series
        Prices (``log=True``) or a series to test in levels, one per date,
        without gaps.
    training, lag, level, min_duration
        As in :func:`indicators.psy_monitor.monitor_psy` (PSY-rule window,
        critical values from the shipped tables).
    rule
        ``"pointwise"``, ``"sadf"`` or ``"gated"`` (module docstring).

    Returns
    -------
    RealtimePsy
        Its reading on date ``t`` equals ``psy_realtime(series[:t]).latest()``.

    Raises
    ------
    InfeasibleTestError
        Training sample too short for the window and lag, or a series longer
        than the tables.
    ValueError
        Gaps, flat stretches, an unknown rule.
    """
    if rule not in RULES:
        raise ValueError(f"psy_realtime: rule must be one of {', '.join(RULES)}, got {rule!r}")
    pw = monitor_psy(series, training=training, lag=lag, level=level, gate=True, log=log,
                     min_duration=min_duration)
    sa = monitor_psy(series, training=training, lag=lag, level=level, rule="sadf", log=log,
                     min_duration=min_duration)
    assert pw.gsadf is not None and pw.gsadf_cv is not None
    alarms = {"pointwise": np.asarray(pw.bsadf > pw.cv), "sadf": np.asarray(sa.alarm),
              "gated": np.asarray(pw.alarm)}
    bsadf = np.asarray(pw.bsadf)
    episodes, confirmed = realtime_episodes(alarms[rule], bsadf, pw.positions, pw.series,
                                            pw.min_duration, pw.index)
    return RealtimePsy(pointwise=pw, sadf=sa, rule=rule, alarms=alarms, confirmed=confirmed,
                       episodes=episodes, min_duration=pw.min_duration)


def episode_events(episodes: tuple[MonitorEpisode, ...], **attrs: Any) -> list[IndicatorEvent]:
    """Real-time episodes as stored events (``confirmed`` is the date the
    monitor first reported the episode, None if it never lasted long enough)."""
    out = []
    for e in episodes:
        out.append(IndicatorEvent(
            kind=e.kind, start=pd.Timestamp(e.start_label).date(),
            end=None if e.end_label is None else pd.Timestamp(e.end_label).date(),
            peak=pd.Timestamp(e.peak_label).date(), ongoing=e.ongoing,
            attrs={"confirmed": (None if e.confirmed_label is None
                                 else pd.Timestamp(e.confirmed_label).date().isoformat()),
                   "duration": e.duration, "peak_stat": e.peak_stat, **attrs}))
    return out


class PsyRtMeta(Meta):
    """What is stored beside each key's real-time PSY readings."""

    method: str = "PSY real-time monitor (Phillips, Shi & Yu 2015)"
    freq: str
    start: date | None
    transform: str = "log"
    rule: str
    rule_text: str
    level: float
    lag: int
    training: int
    min_duration: int | None = None
    first_reading: date | None = None
    last_reading: date | None = None
    readings: int = 0
    cv_source: str | None = None
    cv_reps: int | None = None
    first_alarm: dict[str, date | None] = Field(default_factory=dict)
    alarms_total: dict[str, int] = Field(default_factory=dict)


COLUMNS: dict[str, Column] = {
    "series": Column("Tested series", "log price", "natural log of the adjusted close (or of "
                     "the basket index)"),
    "bsadf": Column("BSADF (real time)", "t-statistic", "largest ADF statistic over windows "
                    "ending on this date, with the PSY window of the sample to date"),
    "cv_pointwise": Column("Pointwise critical value", "t-statistic",
                           "quantile of BSADF on this date for a sample ending here"),
    "cv_sadf": Column("SADF-rule critical value", "t-statistic",
                      "quantile of the SADF statistic of a sample ending here (exuber's rule)"),
    "gsadf": Column("GSADF to date", "t-statistic", "GSADF of the sample up to this date"),
    "gsadf_cv": Column("GSADF critical value to date", "t-statistic",
                       "quantile of GSADF for a sample ending here"),
    "min_window": Column("Minimum window", "observations", "PSY minimum window of the sample "
                         "to date"),
    "alarm_pointwise": Column("Alarm, pointwise rule", "0/1", "BSADF above its pointwise "
                              "critical value"),
    "alarm_sadf": Column("Alarm, SADF rule", "0/1", "BSADF above the SADF-rule critical value"),
    "alarm_gated": Column("Alarm, gated rule", "0/1", "pointwise alarm while GSADF to date "
                          "rejects"),
    "alarm": Column("Alarm (chosen rule)", "0/1", "the alarm of the rule chosen by parameter "
                    "rule"),
    "confirmed": Column("Confirmed episode", "0/1", "inside a run of alarms that has lasted "
                        "min_duration readings"),
    "excess": Column("BSADF above its critical value", "t-statistic",
                     "BSADF minus the chosen rule's critical value; above 0 on an alarm"),
}


def compute(ctx: ComputeContext, key: str, params: PsyRtParams) -> IndicatorResult[PsyRtMeta]:
    """Real-time PSY readings of ``key`` (a symbol or a basket)."""
    proc = "real-time PSY"
    prices = key_prices(ctx.source, ctx.universe, key)
    s = sampled_series(prices, params.freq, params.start, key=key, procedure=proc)
    check_length(s, params.training + 1, key=key, procedure=proc, freq=params.freq,
                 why=f"a training sample of {params.training} and one reading")
    path = engine_call(key, lambda: psy_realtime(
        s, training=params.training, lag=params.lag, level=params.level, rule=params.rule,
        min_duration=params.min_duration))
    frame = path.frame()
    meta = PsyRtMeta(
        freq=params.freq, start=params.start, rule=params.rule, rule_text=RULE_WORDS[params.rule],
        level=params.level, lag=params.lag, training=params.training,
        min_duration=path.min_duration, first_reading=frame.index[0].date(),
        last_reading=frame.index[-1].date(), readings=len(frame),
        cv_source=path.pointwise.cv_source, cv_reps=path.pointwise.reps,
        first_alarm={r: _first(frame[f"alarm_{r}"]) for r in RULES},
        alarms_total={r: int(frame[f"alarm_{r}"].sum()) for r in RULES},
    )
    return IndicatorResult(frame, meta, tuple(episode_events(path.episodes, rule=params.rule)))


def _first(alarm: pd.Series) -> date | None:
    hits = alarm.index[alarm.to_numpy() > 0.5]
    return None if hits.empty else hits[0].date()


INDICATOR = Indicator(
    name="psy_rt",
    title="Explosiveness in real time (PSY monitor)",
    description=(
        "Point-in-time PSY (Phillips, Shi & Yu 2015): the reading on each date uses only the "
        "prices up to that date, with the BSADF statistic against the critical value for a "
        "sample ending that date (pointwise, SADF rule or GSADF-gated); alarms, confirmed "
        "episodes and the date each was confirmed. Unlike the whole-sample test, a stored "
        "reading never changes when later data arrive."
    ),
    columns=COLUMNS,
    params=PsyRtParams,
    meta=PsyRtMeta,
    keys=monitor_keys,
    compute=compute,
    page="explosiveness",
    sampling="weekly (last close of each week) by default, one reading per week after the "
             "training sample",
)
