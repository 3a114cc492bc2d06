"""Real-time (point-in-time) PSY monitoring of explosive episodes.

Every reading here is what could have been said on its date: the statistic at
observation ``t`` uses ``y[0..t]`` only, its critical value belongs to a
sample that ends at ``t``, any gate is computed on the data up to ``t`` (never
the whole-sample GSADF), and an episode is *confirmed* on the day it has
lasted ``min_duration`` observations. A reading never changes when later data
arrive (tested: the reading at ``t`` on the full series equals the last
reading on ``y[:t+1]``).

Two procedures
--------------
:func:`monitor_psy` (Phillips, Shi & Yu 2015, real-time date-stamping)
    The BSADF statistic at ``t`` against a Monte Carlo critical value for a
    sample ending at ``t``. With ``min_window=None`` the window follows the
    PSY rule on the sample up to each date, ``w(t + 1)`` (so it grows slowly
    as data arrive), and the critical values are exact entries of the shipped
    tables (:mod:`indicators.critical_values`): no simulation. With a fixed
    ``min_window`` the critical values are simulated once for the whole
    series (time-major draws make the value at ``t`` independent of the
    series length). Two critical-value rules:

    * ``rule="pointwise"``: the quantile of BSADF at ``t`` (PSY 2015). Its
      size is ``1 - level`` *per date*, so over a long monitoring window false
      alarms are the rule rather than the exception; ``min_duration`` is what
      keeps them in check.
    * ``rule="sadf"``: the quantile of the SADF statistic of the sample up to
      ``t``, exuber's rule for BSADF sequences: higher, fewer alarms.

    ``gate=True`` also asks that the GSADF statistic of the sample up to
    ``t`` reject at ``level`` (exuber only date-stamps when GSADF rejects;
    this is the point-in-time version of that rule).
:func:`monitor_ps2020` (Phillips & Shi 2020)
    A training sample, then each date's BSADF (fixed window, set by the
    training sample) against the wild-bootstrap critical value of
    :func:`~indicators.cv.wb_horizon_cv`: the quantile of the largest BSADF
    over the next ``horizon`` readings of bootstrap paths built from the
    null model fitted on the data up to the last recomputation date. It is
    recomputed every ``every`` observations (default ``horizon``, one
    bootstrap per family window), on dates ``training, training + every,
    ...``; the reading at ``t`` uses the value computed at the last of those
    dates ``<= t``. The family-wise size over ``horizon`` readings is
    ``1 - level``, also when the volatility changed within the data the
    bootstrap has seen (not when it jumps after the last recomputation; see
    the table below).

False alarms and detection delay (``benchmarks/sim_psy_monitor.py``)
--------------------------------------------------------------------
Random-walk null ``y = cumsum(sigma_t e_t)``, a training sample of 100
observations then 50 monitored dates, level 0.95, lag 0, 1000 replications
(Monte Carlo standard error of a 5% rate: 0.7 points). "any" is the
family-wise rate (at least one alarm among the 50 dates), "conf." the rate of
at least one episode confirmed with ``min_duration = 3``, "/date" the share
of dates with an alarm. Shift A multiplies ``sigma`` by 3 from the middle of
the training sample, shift B from the first monitored date. Bubble: the PSY
(2015) mildly explosive process ``y_t = (1 + n^-0.6) y_{t-1} + 6.79 e_t``
(``y_0 = 100``) from the 10th monitored date; "found" is the share with an
alarm on or after its start, "delay" the median number of dates from its
start to the first alarm (and to the first confirmation), "early" the share
with an alarm before it started. Phillips-Shi: 199 bootstrap replications.

::

    procedure                    nominal    ---- null ----     shift A  shift B  bubble
                                            any  conf. /date   any      any      found  delay   early
    PSY pointwise (tables)       5%/date  45.2%  22.3%  5.4%   50.3%    76.8%    96.0%   6 (9)  14.8%
    PSY sadf rule (tables)       5%/date  15.0%   4.8%  1.1%   19.2%    53.4%    92.2%  9 (11)   3.1%
    PSY pointwise + GSADF gate   5%/date   5.0%   3.8%  1.1%   19.8%    32.8%    89.6% 10 (13)   1.7%
    PS2020 Rademacher, every 50  5% fam.   5.6%   1.3%  0.4%    7.6%    35.9%    90.4% 10 (13)   1.3%
    PS2020 Rademacher, every 10  5% fam.   6.2%   1.5%  0.4%    6.9%    34.8%    90.2% 10 (13)   1.3%
    PS2020 normal w, every 50    5% fam.   2.7%   0.8%  0.2%    3.4%    27.3%    89.2% 11 (14)   0.5%

Reading it: the pointwise rule has its nominal 5% per date, so nearly half of
all null paths raise an alarm somewhere in 50 dates (a fifth confirm one);
exuber's SADF rule and the GSADF gate cut that to 15% and 5% at the cost of
3-4 more dates of delay. The bootstrap holds the family-wise rate at its
nominal 5% (within 1-2 standard errors; the noise of a 199-replication
quantile adds a little) and keeps it when volatility changed inside the
training sample, where the Monte Carlo rules (built for a homoskedastic null)
false-alarm 3-4 times as often. A volatility jump at the very start of
monitoring fools every procedure (27-77% false alarms): no critical value
computed on the calmer past anticipates it, and recomputing every 10 dates
hardly helps because the resampled residuals are still mostly pre-jump.
Normal multipliers (Phillips & Shi's choice, and :func:`~indicators.cv.wb_cv`'s)
leave the bootstrap undersized (2.7%), hence the Rademacher default (see
:func:`~indicators.cv.wb_horizon_cv`).

Where this differs from the peers
---------------------------------
psymonitor's ``cvPSYwmboot`` (and :func:`~indicators.cv.wb_cv` with ``tb``)
take the family-wise window right after the minimum window; here it sits on
the readings being monitored (after a training sample that may be much longer
than the window). exuber offers no real-time mode: its ``datestamp`` gates
on the whole-sample GSADF.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.

Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Limit theory of real-time detectors. *International Economic Review*, 56(4),
1079-1134.

Phillips, P. C. B. & Shi, S. (2020). Real time monitoring of asset markets:
Bubbles and crises. In H. D. Vinod & C. R. Rao (Eds.), *Handbook of
Statistics* 42, 61-80. Elsevier.
"""

from __future__ import annotations

import math
import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bubblewatch.core.errors import InfeasibleTestError
from indicators import _psy_kernels as kernels
from indicators._psy_inputs import (
    MIN_OBS,
    as_series,
    longest_flat_run,
    nonneg_int,
    positive_int,
    psy_min_window,
    standardise,
)
from indicators._typing import BoolArray, Float64Array1D, Int64Array
from indicators.critical_values.simulate import LEVELS, psy_first_n, query_layout
from indicators.critical_values.tables import TABLE_LAGS, level_column, load_table
from indicators.cv import mc_cv, wb_horizon_cv

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MonitorEpisode",
    "PsyMonitorResult",
    "monitor_ps2020",
    "monitor_psy",
]

Rule = Literal["pointwise", "sadf"]


@dataclass(frozen=True, slots=True)
class MonitorEpisode:
    """One run of consecutive alarms, as known in real time.

    Positions index the monitored series; labels are their dates (or the
    positions when the series has no index).

    Attributes
    ----------
    kind
        ``"positive"`` when the series is at least as high on the
        confirmation date (or, unconfirmed, the run's last alarm) as on its
        first alarm (a bubble), ``"negative"`` when lower (an explosive fall).
    start
        First alarm of the run.
    confirmed
        The date the run had lasted ``min_duration`` alarms: the first day the
        monitor reports the episode; ``None`` if it never got that long.
    end
        First date back without an alarm (``None`` while ``ongoing``).
    duration
        Alarms in the run (so far, while ongoing).
    peak, peak_stat
        Date and value of the largest statistic in the run (so far).
    """

    kind: Literal["positive", "negative"]
    start: int
    confirmed: int | None
    end: int | None
    duration: int
    ongoing: bool
    peak: int
    peak_stat: float
    start_label: Hashable
    confirmed_label: Hashable | None
    end_label: Hashable | None
    peak_label: Hashable


@dataclass(frozen=True, slots=True)
class PsyMonitorResult:
    """Readings of a real-time monitor, one per monitored date (arrays read-only).

    Attributes
    ----------
    procedure
        ``"psy"`` (:func:`monitor_psy`) or ``"phillips_shi"`` (:func:`monitor_ps2020`).
    rule
        ``"pointwise"`` or ``"sadf"`` (Monte Carlo), ``"bootstrap"`` (Phillips-Shi).
    positions, labels
        Monitored observations ``training .. n - 1`` and their dates (``None``
        without an index).
    bsadf
        BSADF statistic on each date (data up to that date).
    cv
        Its critical value at ``level`` (for a sample ending on that date).
    alarm
        ``bsadf > cv`` (and the gate, when on).
    confirmed
        The date lies in a run of alarms that has lasted ``min_duration``.
    windows
        Minimum window (regression rows) of each reading.
    gsadf, gsadf_cv
        With ``gate``: GSADF of the sample up to each date and its critical
        value; otherwise ``None``.
    episodes
        Runs of alarms in time order (confirmed or not).
    cv_source
        ``"table"``, ``"simulation"``, ``"cache"`` or ``"bootstrap"``.
    reps, seed
        Replications and seed behind the critical values.
    recomputed
        Phillips-Shi only: dates on which the bootstrap was recomputed.
    series
        The monitored series (log of the input with ``log=True``).
    """

    procedure: Literal["psy", "phillips_shi"]
    rule: Literal["pointwise", "sadf", "bootstrap"]
    n: int
    training: int
    lag: int
    level: float
    min_duration: int
    positions: Int64Array
    labels: Any
    bsadf: Float64Array1D
    cv: Float64Array1D
    alarm: BoolArray
    confirmed: BoolArray
    windows: Int64Array
    gsadf: Float64Array1D | None
    gsadf_cv: Float64Array1D | None
    episodes: tuple[MonitorEpisode, ...]
    cv_source: str
    reps: int
    seed: int | None
    series: Float64Array1D
    index: Any
    gate: bool = False
    horizon: int | None = None
    every: int | None = None
    recomputed: tuple[int, ...] = ()

    @property
    def first_alarm(self) -> int | None:
        """Position of the first alarm, or ``None``."""
        hits = np.flatnonzero(self.alarm)
        return int(self.positions[hits[0]]) if hits.size else None

    @property
    def first_confirmed(self) -> int | None:
        """Position of the first confirmation of an episode, or ``None``."""
        dates = [e.confirmed for e in self.episodes if e.confirmed is not None]
        return dates[0] if dates else None

    def label(self, position: int | None) -> Hashable | None:
        """Date (label) of observation ``position``."""
        if position is None:
            return None
        return int(position) if self.index is None else self.index[position]

    @property
    def first_alarm_label(self) -> Hashable | None:
        return self.label(self.first_alarm)

    @property
    def first_confirmed_label(self) -> Hashable | None:
        return self.label(self.first_confirmed)

    def to_frame(self) -> pd.DataFrame:
        """One row per monitored date: ``bsadf``, ``cv``, ``alarm``,
        ``confirmed``, ``min_window`` (and ``gsadf``, ``gsadf_cv`` with the gate)."""
        import pandas as pd

        cols: dict[str, Any] = {"bsadf": self.bsadf, "cv": self.cv, "alarm": self.alarm,
                                "confirmed": self.confirmed, "min_window": self.windows}
        if self.gsadf is not None:
            cols["gsadf"] = self.gsadf
            cols["gsadf_cv"] = self.gsadf_cv
        index = self.labels if self.labels is not None else pd.Index(self.positions)
        return pd.DataFrame(cols, index=index)

    def summary(self) -> str:
        what = ("PSY real-time monitor" if self.procedure == "psy"
                else "Phillips-Shi (2020) bootstrap monitor")
        lines = [
            (f"{what}: rule {self.rule}, level {self.level:.0%}, lag {self.lag}, "
            f"training {self.training} observations, {self.positions.size} readings, "
            f"min_duration {self.min_duration}, critical values: {self.cv_source} "
            f"({self.reps} replications)"),
            (f"  first alarm: {_fmt(self.first_alarm_label)}; first confirmed episode: "
            f"{_fmt(self.first_confirmed_label)}"),
        ]
        for e in self.episodes:
            conf = _fmt(e.confirmed_label) if e.confirmed is not None else "unconfirmed"
            end = "ongoing" if e.ongoing else _fmt(e.end_label)
            lines.append(f"  {e.kind:<8} {_fmt(e.start_label)} -> {end}, confirmed {conf}, "
                         f"{e.duration} alarms, peak {e.peak_stat:.2f}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# PSY with Monte Carlo critical values                                        #
# --------------------------------------------------------------------------- #
def monitor_psy(
    y: Any,
    *,
    training: int,
    lag: int = 0,
    min_window: int | None = None,
    rule: Rule = "pointwise",
    level: float = 0.95,
    min_duration: int | None = None,
    gate: bool = False,
    log: bool = False,
    reps: int = 2000,
    seed: int | None = 0,
    cache_dir: str | os.PathLike[str] | None = None,
) -> PsyMonitorResult:
    """Real-time PSY date-stamping: each date's BSADF against a critical value
    for a sample that ends on that date.

    Parameters
    ----------
    y
        One series (array or pandas Series; its index labels the readings),
        no gaps.
    training
        Observations before the first reading; readings on positions
        ``training .. len(y) - 1``.
    lag
        Fixed number of lagged differences.
    min_window
        ``None``: the PSY rule on the sample up to each date, with critical
        values from the shipped tables (lags 0-4, up to 5031 observations).
        An integer: that window throughout, with simulated critical values.
    rule
        ``"pointwise"`` (BSADF quantile at each date) or ``"sadf"`` (SADF
        quantile of the sample up to each date, exuber's rule).
    level
        0.90, 0.95 or 0.99.
    min_duration
        Alarms in a row that confirm an episode; default ``round(log(training))``
        (the PSY "log T" rule, on the sample known when monitoring starts).
    gate
        Also require the GSADF of the sample up to each date to reject.
    log
        Monitor ``log(y)`` (prices).
    reps, seed, cache_dir
        Monte Carlo replications, seed and cache folder for a fixed
        ``min_window`` (see :func:`~indicators.cv.mc_cv`); unused with the
        PSY rule (the tables carry their own).

    Returns
    -------
    PsyMonitorResult
        Per date ``bsadf``, ``cv``, ``alarm`` and ``confirmed``; the first
        alarm and the episodes, each with the date it was confirmed.

    Raises
    ------
    InfeasibleTestError
        A training sample too short for the window and lag, or a series
        longer than the tables with ``min_window=None``.
    ValueError
        Gaps (NaN), flat stretches as long as the smallest window, bad
        arguments.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.cumsum(np.random.default_rng(3).standard_normal(160))
    >>> res = monitor_psy(y, training=100)
    >>> int(res.positions[0]), res.bsadf.shape, res.cv_source
    (100, (60,), 'table')
    """
    proc = "monitor_psy"
    values, index = _series(y, log, proc)
    n = values.shape[0]
    lag = nonneg_int(lag, "lag")
    training = positive_int(training, "training")
    col = level_column(LEVELS, level)
    if rule not in ("pointwise", "sadf"):
        raise ValueError(f"{proc}: rule must be 'pointwise' or 'sadf', got {rule!r}")
    if training >= n:
        raise ValueError(f"{proc}: training={training} leaves nothing to monitor in {n} "
                         "observations; use a shorter training sample or a longer series")
    positions = np.arange(training, n, dtype=np.int64)
    if min_window is None:
        if lag not in TABLE_LAGS:
            raise ValueError(f"{proc}: the PSY-rule window uses the shipped tables, which "
                             f"cover lags {TABLE_LAGS}; got lag={lag} (pass min_window to "
                             "simulate instead)")
        first = psy_first_n(lag) - 1
        if training < first:
            raise InfeasibleTestError(
                f"{proc}: training={training} observations is too short for lag={lag} with "
                f"the PSY window; the first reading needs at least {first} observations "
                f"before it (training >= {first})")
        table = load_table(lag)
        if n > table.n_max:
            raise InfeasibleTestError(
                f"{proc}: {n} observations exceed the shipped PSY tables for lag={lag} "
                f"(up to {table.n_max}); pass a fixed min_window (its critical values are "
                "simulated; give cache_dir to keep them) or use a lower sampling frequency")
        windows = np.array([psy_min_window(int(t) + 1) for t in positions], dtype=np.int64)
        _check_flat(values, int(windows.min()), proc)
        stats = _readings(values, windows, positions, lag)
        sizes = positions + 1
        cv = table.at(sizes, "bsadf" if rule == "pointwise" else "sadf")[:, col]
        gcv = table.at(sizes, "gsadf")[:, col] if gate else None
        source, reps_used, seed_used = "table", table.reps, table.seed
    else:
        w = positive_int(min_window, "min_window")
        if w < lag + 3:
            raise ValueError(f"{proc}: min_window={w} is too small for lag={lag}; each "
                             f"regression needs at least lag + 3 = {lag + 3} rows")
        if training < max(w + lag, MIN_OBS - 1):
            need = max(w + lag, MIN_OBS - 1)
            raise InfeasibleTestError(
                f"{proc}: training={training} observations is too short for min_window={w} "
                f"and lag={lag}; the first reading needs at least {need} observations "
                f"before it (training >= {need})")
        _check_flat(values, w, proc)
        windows = np.full(positions.size, w, dtype=np.int64)
        stats = _readings(values, windows, positions, lag)
        mc = mc_cv(n, w, lag, reps=reps, seed=seed, cache_dir=cache_dir, tables=False)
        pts = positions - w - lag
        assert mc.sadf_seq is not None and mc.gsadf_seq is not None
        cv = (mc.bsadf if rule == "pointwise" else mc.sadf_seq)[pts, col]
        gcv = mc.gsadf_seq[pts, col] if gate else None
        source, reps_used, seed_used = mc.source, mc.reps, mc.seed
    alarm = stats["bsadf"] > cv
    if gate:
        alarm &= stats["gsadf"] > gcv
    md = _min_duration(min_duration, training, proc)
    return _result(
        procedure="psy", rule=rule, values=values, index=index, training=training, lag=lag,
        level=LEVELS[col], min_duration=md, positions=positions, windows=windows,
        bsadf=stats["bsadf"], cv=np.asarray(cv, dtype=np.float64), alarm=alarm,
        gsadf=stats["gsadf"] if gate else None, gsadf_cv=gcv, cv_source=source,
        reps=reps_used, seed=seed_used, gate=bool(gate),
    )


# --------------------------------------------------------------------------- #
# Phillips & Shi (2020) wild-bootstrap monitoring                             #
# --------------------------------------------------------------------------- #
def monitor_ps2020(
    y: Any,
    *,
    training: int,
    horizon: int,
    lag: int = 0,
    min_window: int | None = None,
    every: int | None = None,
    level: float = 0.95,
    reps: int = 499,
    seed: int | None = 0,
    weights: Literal["rademacher", "normal"] = "rademacher",
    min_duration: int | None = None,
    log: bool = False,
) -> PsyMonitorResult:
    """Phillips & Shi (2020) real-time monitoring with wild-bootstrap
    critical values that control the family-wise false-alarm rate.

    Parameters
    ----------
    y
        One series (array or pandas Series), no gaps.
    training
        Observations before the first reading (positions ``training ..
        len(y) - 1`` are monitored).
    horizon
        Readings over which the family-wise size is ``1 - level`` (e.g. one
        year of observations).
    lag
        Fixed lag of the ADF regressions and of the bootstrap null model.
    min_window
        Minimum window (regression rows), fixed for the whole monitoring;
        default the PSY rule on the training sample, ``w(training)``.
    every
        Recompute the bootstrap critical value every ``every`` observations,
        on dates ``training + k * every`` from the data up to that date;
        default ``horizon``.
    level
        0.90, 0.95 or 0.99.
    reps
        Bootstrap replications per recomputation.
    seed
        Base seed; the bootstrap on date ``t`` uses
        ``numpy.random.SeedSequence([seed, t])``, so a reading does not depend
        on how much later data there is. ``None``: fresh entropy.
    weights
        Wild-bootstrap multipliers, ``"rademacher"`` or ``"normal"`` (Phillips
        & Shi's choice, undersized here; see :func:`~indicators.cv.wb_horizon_cv`).
    min_duration
        Alarms in a row that confirm an episode; default ``round(log(training))``.
    log
        Monitor ``log(y)``.

    Returns
    -------
    PsyMonitorResult
        ``procedure="phillips_shi"``, ``rule="bootstrap"``; ``recomputed``
        lists the recomputation dates; ``first_alarm`` is the alarm date.

    Raises
    ------
    InfeasibleTestError
        A training sample shorter than ``min_window + lag`` (no BSADF reading
        and no null model to bootstrap).
    ValueError
        Gaps, flat stretches as long as the window, bad arguments.

    Notes
    -----
    Cost: one bootstrap of ``reps`` paths of ``t + horizon`` observations per
    recomputation date ``t``, O(reps (t + horizon)^2) pairs of windows each.
    """
    proc = "monitor_ps2020"
    values, index = _series(y, log, proc)
    n = values.shape[0]
    lag = nonneg_int(lag, "lag")
    training = positive_int(training, "training")
    horizon = positive_int(horizon, "horizon")
    every = horizon if every is None else positive_int(every, "every")
    col = level_column(LEVELS, level)
    if training >= n:
        raise ValueError(f"{proc}: training={training} leaves nothing to monitor in {n} "
                         "observations; use a shorter training sample or a longer series")
    if min_window is None:
        if training < psy_first_n(lag):
            raise InfeasibleTestError(
                f"{proc}: training={training} observations is too short for the PSY window "
                f"with lag={lag}; it needs at least {psy_first_n(lag)}")
        w = psy_min_window(training)
    else:
        w = positive_int(min_window, "min_window")
        if w < lag + 3:
            raise ValueError(f"{proc}: min_window={w} is too small for lag={lag}; each "
                             f"regression needs at least lag + 3 = {lag + 3} rows")
    need = max(w + lag, MIN_OBS - 1)
    if training < need:
        raise InfeasibleTestError(
            f"{proc}: training={training} observations is too short for min_window={w} and "
            f"lag={lag}; the first reading and its bootstrap need at least {need} "
            f"observations before it (training >= {need})")
    _check_flat(values, w, proc)
    positions = np.arange(training, n, dtype=np.int64)
    windows = np.full(positions.size, w, dtype=np.int64)
    stats = _readings(values, windows, positions, lag)
    cv = np.empty(positions.size)
    dates = tuple(range(training, n, every))
    for k, t in enumerate(dates):
        crit = wb_horizon_cv(values[:t + 1], w, lag, horizon=horizon, reps=reps,
                             seed=_date_seed(seed, t), weights=weights)
        cv[k * every:(k + 1) * every] = crit[col]
    alarm = stats["bsadf"] > cv
    md = _min_duration(min_duration, training, proc)
    return _result(
        procedure="phillips_shi", rule="bootstrap", values=values, index=index,
        training=training, lag=lag, level=LEVELS[col], min_duration=md, positions=positions,
        windows=windows, bsadf=stats["bsadf"], cv=cv, alarm=alarm, gsadf=None, gsadf_cv=None,
        cv_source="bootstrap", reps=positive_int(reps, "reps"), seed=seed, gate=False,
        horizon=horizon, every=every, recomputed=dates,
    )


# --------------------------------------------------------------------------- #
# Helpers                                                                     #
# --------------------------------------------------------------------------- #
def _series(y: Any, log: bool, proc: str) -> tuple[np.ndarray, Any]:
    """The series as floats with its index; gaps and other bad input raise a
    ``ValueError`` that names the procedure."""
    raw = y.to_numpy() if hasattr(y, "to_numpy") and getattr(y, "ndim", 1) == 1 else y
    try:
        arr = np.asarray(raw, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        arr = None
    if arr is not None:
        gaps = np.flatnonzero(~np.isfinite(arr))
        if gaps.size:
            labels = getattr(y, "index", None)
            where = f"position {gaps[0]}" + (
                f" ({labels[gaps[0]]})" if labels is not None and len(labels) == arr.size
                else "")
            raise ValueError(
                f"{proc}: y has {gaps.size} gaps (NaN or infinite values), the first at "
                f"{where}; real-time monitoring needs a complete series (fill or drop the "
                "gaps, or resample to a frequency without them)")
    try:
        values, index = as_series(y, log=log)
    except InfeasibleTestError as exc:
        raise InfeasibleTestError(f"{proc}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{proc}: {exc}") from None
    return values, index


def _check_flat(values: np.ndarray, window: int, proc: str) -> None:
    """Refuse a run of ``window`` or more equal consecutive values: windows
    inside it have no variation and their ADF statistic is undefined."""
    start, count = longest_flat_run(values)
    if count >= window:
        raise ValueError(
            f"{proc}: y is flat (the same value) for {count} consecutive observations "
            f"from position {start}; windows of the smallest size used "
            f"({window} rows) inside it have no variation, so their ADF statistic is "
            f"undefined. Flat stretches must be shorter than {window} observations (drop "
            "stale quotes or use a lower sampling frequency)")


def _readings(values: np.ndarray, windows: np.ndarray, positions: np.ndarray,
              lag: int) -> dict[str, np.ndarray]:
    """BSADF, SADF and GSADF of ``values[:t+1]`` with window ``windows[k]`` at
    each ``t = positions[k]`` (windows non-decreasing in t), in one pass of
    :func:`~indicators._psy_kernels.window_family_one`."""
    z = standardise(values)
    wmin, wmax = int(windows.min()), int(windows.max())
    points = [positions[windows == w] for w in range(wmin, wmax + 1)]
    q_ptr, q_t = query_layout(range(wmin, wmax + 1), points)
    order = np.argsort(q_t, kind="stable")  # queries back to date order
    nq = q_t.shape[0]
    out = {k: np.empty(nq) for k in ("bsadf", "sadf", "gsadf")}
    badf = np.empty(values.shape[0])
    kernels.window_family_one(z, wmin, wmax, lag, q_ptr, q_t, out["bsadf"], out["sadf"],
                              out["gsadf"], badf)
    res = {}
    for k, v in out.items():
        arr = v[order]
        arr.flags.writeable = False
        res[k] = arr
    return res


def _min_duration(min_duration: int | None, training: int, proc: str) -> int:
    if min_duration is None:
        return max(1, round(math.log(training)))
    if isinstance(min_duration, bool) or not isinstance(min_duration, (int, np.integer)) \
            or min_duration < 1:
        raise ValueError(f"{proc}: min_duration must be a positive integer (alarms in a row), "
                         f"got {min_duration!r}")
    return int(min_duration)


def _date_seed(seed: int | None, t: int) -> int | None:
    """Seed of the bootstrap on date ``t``: a function of ``(seed, t)`` only."""
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), int(t)]).generate_state(1)[0])


def realtime_episodes(
    alarm: np.ndarray, stat: np.ndarray, positions: np.ndarray, series: np.ndarray,
    min_duration: int, index: Any = None,
) -> tuple[tuple[MonitorEpisode, ...], np.ndarray]:
    """Runs of consecutive alarms as a real-time monitor reports them, and
    the per-date ``confirmed`` flag (the run has reached ``min_duration``).

    Examples
    --------
    >>> a = np.array([0, 1, 1, 1, 0, 1], bool)
    >>> eps, conf = realtime_episodes(a, np.arange(6.0), np.arange(6), np.arange(6.0), 2)
    >>> [(e.start, e.confirmed, e.end, e.ongoing) for e in eps], conf.astype(int).tolist()
    ([(1, 2, 4, False), (5, None, None, True)], [0, 0, 1, 1, 0, 0])
    """
    def lab(p: int | None) -> Hashable | None:
        if p is None:
            return None
        return int(p) if index is None else index[p]

    m = np.asarray(alarm, dtype=bool)
    confirmed = np.zeros(m.size, dtype=bool)
    episodes = []
    edges = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        dur = int(e - s)
        conf_k = s + min_duration - 1 if dur >= min_duration else None
        if conf_k is not None:
            confirmed[conf_k:e] = True
        ongoing = bool(e >= m.size)
        start, last = int(positions[s]), int(positions[e - 1])
        conf = None if conf_k is None else int(positions[conf_k])
        ref = conf if conf is not None else last
        peak_k = s + int(np.nanargmax(stat[s:e])) if np.isfinite(stat[s:e]).any() else s
        kind: Literal["positive", "negative"] = (
            "positive" if series[ref] >= series[start] else "negative")
        end = None if ongoing else int(positions[e])
        episodes.append(MonitorEpisode(
            kind=kind, start=start, confirmed=conf, end=end, duration=dur, ongoing=ongoing,
            peak=int(positions[peak_k]), peak_stat=float(stat[peak_k]),
            start_label=lab(start), confirmed_label=lab(conf), end_label=lab(end),
            peak_label=lab(int(positions[peak_k])),
        ))
    return tuple(episodes), confirmed


def _result(*, procedure: Any, rule: Any, values: np.ndarray, index: Any, training: int,
            lag: int, level: float, min_duration: int, positions: np.ndarray,
            windows: np.ndarray, bsadf: np.ndarray, cv: np.ndarray, alarm: np.ndarray,
            gsadf: np.ndarray | None, gsadf_cv: np.ndarray | None, cv_source: str, reps: int,
            seed: int | None, gate: bool, horizon: int | None = None,
            every: int | None = None, recomputed: tuple[int, ...] = ()) -> PsyMonitorResult:
    episodes, confirmed = realtime_episodes(alarm, bsadf, positions, values, min_duration,
                                            index)
    cv = np.array(cv, dtype=np.float64)
    for arr in (cv, alarm, confirmed, positions, windows, values):
        arr.flags.writeable = False
    if gsadf_cv is not None:
        gsadf_cv = np.array(gsadf_cv, dtype=np.float64)
        gsadf_cv.flags.writeable = False
    return PsyMonitorResult(
        procedure=procedure, rule=rule, n=values.shape[0], training=training, lag=lag,
        level=level, min_duration=min_duration, positions=positions,
        labels=None if index is None else index[positions], bsadf=bsadf, cv=cv, alarm=alarm,
        confirmed=confirmed, windows=windows, gsadf=gsadf, gsadf_cv=gsadf_cv,
        episodes=episodes, cv_source=cv_source, reps=reps, seed=seed, series=values,
        index=index, gate=gate, horizon=horizon, every=every, recomputed=recomputed,
    )


def _fmt(label: Hashable | None) -> str:
    if label is None:
        return "none"
    if hasattr(label, "strftime"):
        return label.strftime("%Y-%m-%d")
    return str(label)
