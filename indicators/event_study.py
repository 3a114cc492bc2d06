"""Event studies: abnormal returns around dated events, their significance
across a cohort that reacts to the same news, recovery times, and whether the
market "shrugs off" repeated shocks of one kind.

Method (MacKinlay 1997)
-----------------------
* **Returns** are simple daily returns of adjusted closes,
  ``R_t = P_t / P_{t-1} - 1``. A basket enters as one more price series (an
  equal-weighted index, e.g. :func:`indicators.runup.basket_index`); a
  portfolio of names that react to the same news on the same day is the classic
  remedy for their cross-correlation.
* **Calendar.** Each security is aligned with the benchmark (default
  ``^GSPC``) on the sessions where both have a close. **Day 0** is the first
  session on or after the event date; for news released after the US close
  (``after_close``) it is the first session after the date. A shifted day 0
  (weekend, holiday, after the close) is said in the row's notes.
* **Market model** ``R_it = a_i + b_i R_mt + e_it``, fitted by OLS over the
  estimation window, by default sessions ``[-250, -11]`` relative to day 0
  (``L1 = 240`` sessions, about one trading year, ending two weeks before the
  event so that leaks do not bias the fit); ``s_i^2 = SSR / (L1 - 2)``.
* **Abnormal returns** ``AR_it = R_it - a_i - b_i R_mt`` over the event
  windows ``[0]``, ``[-1, +1]``, ``[0, +5]``, ``[0, +20]``; ``CAR`` is their
  sum. Its variance includes the estimation error of ``(a_i, b_i)``:
  ``Var(CAR) = s_i^2 (L2 + 1' X* (X'X)^-1 X*' 1)``, with ``X*`` the event-window
  regressors; ``t = CAR / sd(CAR)`` follows Student's t with ``L1 - 2`` degrees
  of freedom under normal errors.
* **Recovery time**: sessions from day 0 until the price first closes at or
  above the last close before day 0 (0 when day 0 itself did); *censored* when
  it has not yet happened in the data.

Tests across a cohort (N securities, one event)
-----------------------------------------------
* **Cross-sectional t**: ``mean(CAR) / (sd(CAR) / sqrt(N))``, ``N - 1`` df.
* **Patell (1976) Z**: each AR is standardised by its own prediction-error
  s.d., ``SAR_t = AR_t / (s_i sqrt(1 + x_t'(X'X)^-1 x_t))``; ``CSAR_i`` is their
  sum over the window and ``Z = sum_i CSAR_i / sqrt(L2 (L1-2)/(L1-4)) / sqrt(N)``,
  standard normal under the null. It assumes the event leaves the variance
  unchanged.
* **Boehmer, Musumeci & Poulsen (1991)**: the standardised CARs
  ``SCAR_i = CAR_i / sd(CAR_i)`` are tested with their *cross-sectional*
  standard deviation, ``t_BMP = sqrt(N) mean(SCAR) / sd(SCAR)`` (``N - 1``
  df), which stays valid when the event itself raises volatility (it does:
  export controls and the DeepSeek shock are large news).
* **Kolari & Pynnönen (2010)**: when every security reacts on the *same* date
  (our case: all AI names face the same export rule), their abnormal returns
  are cross-correlated and the BMP test over-rejects. The adjusted statistic is
  ``t_KP = t_BMP sqrt((1 - r) / (1 + (N - 1) r))``, with ``r`` the average
  pairwise correlation of the estimation-window residuals.

Overlapping events
------------------
With ``overlap="exclude"`` (default), the sessions ``[-1, +5]`` around
*another* event's day 0 (``exclude``) that fall in this event's estimation
window are dropped from the fit: a shock would otherwise inflate ``s_i`` and
bend ``b_i``. The span is short on purpose: 2025 alone holds a dozen dated
events, and excluding their whole ``[0, +20]`` windows would leave too few
sessions to fit. The window is not extended
back to make up for them; the row reports ``n_excluded``. ``overlap="keep"``
fits on every session and only lists the events in the notes. Events whose
spans overlap *this* event's windows are listed in ``overlapping``: their CARs
share sessions (in January 2025 the AI diffusion rule, Stargate and DeepSeek
fall within three weeks) and cannot be read separately.

Shrugging off
-------------
:func:`shrug_off` regresses ``|CAR|`` (or the recovery time) of one security,
basket or cohort on the order of the events of a category (or on calendar
years): a negative slope says the reactions shrink as the shocks repeat. With a
handful of events such a slope is an anecdote, not evidence: the result says
``n`` and carries a note below 8 events; below 3 there is no slope. Events
sharing a day 0 are counted once.

Limits: daily data cannot separate news released on the same day; a market
model estimated in a calm year understates the volatility of a bubble year;
the t statistics assume normal, independent errors (the BMP and KP tests relax
the variance and correlation parts, not fat tails); the benchmark contains the
AI names themselves (NVIDIA, Microsoft... weigh heavily in ^GSPC), which biases
abnormal returns of index heavyweights toward zero on market-wide AI news.

The work is one small least-squares fit per (event, security), a few hundred
at most, plus vectorised NumPy over short windows: milliseconds in all, so no
numba kernel is needed.

References
----------
MacKinlay, A. C. (1997). Event studies in economics and finance. *Journal of
Economic Literature*, 35(1), 13-39.

Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price
behavior: empirical tests. *Journal of Accounting Research*, 14(2), 246-276.

Boehmer, E., Musumeci, J. & Poulsen, A. B. (1991). Event-study methodology under
conditions of event-induced variance. *Journal of Financial Economics*, 30(2),
253-272.

Kolari, J. W. & Pynnönen, S. (2010). Event study testing with cross-sectional
correlation of abnormal returns. *Review of Financial Studies*, 23(11),
3996-4025.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtr, stdtr

from indicators._typing import Float64Array

__all__ = [
    "DEFAULT_ESTIMATION", "DEFAULT_EXCLUDE", "DEFAULT_WINDOWS", "CohortStat", "Event", "EventStudy", "Reaction",
    "ShrugOff", "Skipped", "WindowCar", "event_study", "events_from_frame", "shrug_off",
]

#: Event windows, sessions relative to day 0 (inclusive).
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 5), (0, 20))
#: Estimation window, sessions relative to day 0 (inclusive).
DEFAULT_ESTIMATION: tuple[int, int] = (-250, -11)
#: Sessions around another event's day 0 left out of an estimation window.
DEFAULT_EXCLUDE: tuple[int, int] = (-1, 5)
#: Fewest estimation sessions a fit may use (after listings and exclusions).
DEFAULT_MIN_ESTIMATION = 120
#: Below this many events a shrug-off slope carries a small-sample note.
SMALL_SAMPLE = 8


def window_label(start: int, end: int) -> str:
    """``[0]``, ``[-1,+1]``, ``[0,+20]``."""
    def fmt(n: int) -> str:
        return f"{n:+d}" if n else "0"
    return f"[{fmt(start)}]" if start == end else f"[{fmt(start)},{fmt(end)}]"


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True, slots=True)
class Event:
    """A dated event. ``after_close``: the news came after the US close of
    ``date``, so day 0 is the next session."""

    key: str
    date: date
    category: str = ""
    title: str = ""
    after_close: bool = False


def events_from_frame(frame: pd.DataFrame) -> tuple[Event, ...]:
    """Events from a frame with ``key`` and ``date`` columns and optionally
    ``category``, ``title``, ``after_close`` (e.g. :func:`db.repo.events_frame`)."""
    missing = [c for c in ("key", "date") if c not in frame.columns]
    if missing:
        raise ValueError(f"the events frame needs columns key and date; missing {missing}")
    out = []
    for row in frame.to_dict("records"):
        after = row.get("after_close", False)
        out.append(Event(
            key=str(row["key"]), date=pd.Timestamp(row["date"]).date(),
            category=str(row.get("category") or ""), title=str(row.get("title") or ""),
            after_close=bool(after) if after is not None and not pd.isna(after) else False,
        ))
    return tuple(out)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, slots=True)
class WindowCar:
    """Cumulative abnormal return of one security over one window.

    ``car`` and ``raw`` are fractions (``-0.17`` = -17%): ``car`` the sum of
    abnormal returns, ``raw`` the compounded raw return. ``sd`` is the
    prediction-error standard deviation of ``car``; ``t = car / sd`` with
    ``df`` degrees of freedom and two-sided ``p``. ``csar`` is the sum of the
    Patell-standardised abnormal returns. NaN when the window runs past the
    data (``complete`` False).
    """

    start: int
    end: int
    car: float
    raw: float
    sd: float
    t: float
    p: float
    csar: float
    df: int
    complete: bool

    @property
    def label(self) -> str:
        return window_label(self.start, self.end)

    @property
    def scar(self) -> float:
        """Standardised CAR (BMP 1991), the same number as ``t``."""
        return self.t


@dataclass(frozen=True, slots=True)
class Reaction:
    """One security's (or basket's) reaction to one event.

    ``alpha``, ``beta`` and ``sigma`` (daily, fractions) are the market-model
    fit over ``n_estimation`` sessions (``n_excluded`` dropped for other
    events). ``ret0`` and ``ar0`` are the raw and abnormal returns of day 0.
    ``recovery_days`` counts sessions from day 0 to the first close at or above
    ``pre_close`` (the close before day 0); None and ``recovery_censored`` when
    the data end first.
    """

    event: str
    event_date: date
    category: str
    symbol: str
    day0: date
    shifted: bool
    alpha: float
    beta: float
    sigma: float
    n_estimation: int
    n_excluded: int
    ret0: float
    ar0: float
    windows: tuple[WindowCar, ...]
    pre_close: float
    recovery_days: int | None
    recovered_on: date | None
    recovery_censored: bool
    overlapping: tuple[str, ...]
    notes: tuple[str, ...]
    residuals: pd.Series = field(repr=False, compare=False)

    def window(self, start: int, end: int) -> WindowCar:
        for w in self.windows:
            if (w.start, w.end) == (start, end):
                return w
        raise KeyError(f"window {window_label(start, end)} was not computed; windows: "
                       f"{', '.join(w.label for w in self.windows)}")


@dataclass(frozen=True, slots=True)
class CohortStat:
    """Aggregate reaction of a cohort's members to one event over one window.

    ``n`` members with a complete window (listed in ``members``); ``mean_car``
    and ``median_car`` are fractions. ``t_cs``: cross-sectional t; ``patell_z``:
    Patell Z; ``bmp_t``: Boehmer-Musumeci-Poulsen t; ``kp_t``: ``bmp_t``
    adjusted for the average residual cross-correlation ``mean_corr``
    (Kolari-Pynnönen). ``p_*`` are two-sided p-values. NaN when ``n < 2``.
    """

    event: str
    event_date: date
    category: str
    cohort: str
    start: int
    end: int
    n: int
    members: tuple[str, ...]
    mean_car: float
    median_car: float
    t_cs: float
    p_cs: float
    patell_z: float
    p_patell: float
    bmp_t: float
    p_bmp: float
    mean_corr: float
    kp_t: float
    p_kp: float

    @property
    def label(self) -> str:
        return window_label(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Skipped:
    """An (event, symbol) pair that could not be studied, and why."""

    event: str
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class EventStudy:
    """Result of :func:`event_study`."""

    reactions: tuple[Reaction, ...]
    cohorts: tuple[CohortStat, ...]
    skipped: tuple[Skipped, ...]
    events: tuple[Event, ...]
    benchmark: str
    estimation: tuple[int, int]
    windows: tuple[tuple[int, int], ...]
    overlap: Literal["exclude", "keep"]

    def reaction(self, event: str, symbol: str) -> Reaction:
        for r in self.reactions:
            if r.event == event and r.symbol == symbol:
                return r
        why = [s.reason for s in self.skipped if s.event == event and s.symbol == symbol]
        raise KeyError(f"no reaction of {symbol!r} to {event!r}"
                       + (f": {why[0]}" if why else ""))

    def cohort(self, event: str, cohort: str, start: int, end: int) -> CohortStat:
        for c in self.cohorts:
            if (c.event, c.cohort, c.start, c.end) == (event, cohort, start, end):
                return c
        raise KeyError(f"no {cohort!r} aggregate for {event!r} over "
                       f"{window_label(start, end)}")

    def to_frame(self) -> pd.DataFrame:
        """One row per (event, symbol, window): the CAR and its test, with the
        reaction's day 0, fit, day-0 returns, recovery and notes."""
        rows = []
        for r in self.reactions:
            for w in r.windows:
                rows.append({
                    "event": r.event, "event_date": r.event_date, "category": r.category,
                    "symbol": r.symbol, "day0": r.day0, "shifted": r.shifted,
                    "window": w.label, "start": w.start, "end": w.end, "car": w.car,
                    "raw": w.raw, "sd": w.sd, "t": w.t, "p": w.p, "csar": w.csar,
                    "complete": w.complete, "ret0": r.ret0, "ar0": r.ar0, "alpha": r.alpha,
                    "beta": r.beta, "sigma": r.sigma, "n_estimation": r.n_estimation,
                    "n_excluded": r.n_excluded, "recovery_days": r.recovery_days,
                    "recovery_censored": r.recovery_censored,
                    "overlapping": ", ".join(r.overlapping), "notes": "; ".join(r.notes),
                })
        return pd.DataFrame(rows)

    def cohort_frame(self) -> pd.DataFrame:
        """One row per (event, cohort, window) with the four test statistics."""
        rows = [{
            "event": c.event, "event_date": c.event_date, "category": c.category,
            "cohort": c.cohort, "window": c.label, "start": c.start, "end": c.end, "n": c.n,
            "members": ", ".join(c.members), "mean_car": c.mean_car,
            "median_car": c.median_car, "t_cs": c.t_cs, "p_cs": c.p_cs,
            "patell_z": c.patell_z, "p_patell": c.p_patell, "bmp_t": c.bmp_t,
            "p_bmp": c.p_bmp, "mean_corr": c.mean_corr, "kp_t": c.kp_t, "p_kp": c.p_kp,
        } for c in self.cohorts]
        return pd.DataFrame(rows)

    def skipped_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"event": s.event, "symbol": s.symbol, "reason": s.reason}
                             for s in self.skipped], columns=["event", "symbol", "reason"])


# --------------------------------------------------------------------------- engine
def _validate(events: Sequence[Event], windows: Sequence[tuple[int, int]],
              estimation: tuple[int, int], min_estimation: int, overlap: str) -> None:
    if not events:
        raise ValueError("no events given: pass at least one Event (key, date)")
    seen: set[str] = set()
    for e in events:
        if e.key in seen:
            raise ValueError(f"duplicate event key {e.key!r}: each event needs its own key")
        seen.add(e.key)
    if not windows:
        raise ValueError("no event windows given, e.g. windows=[(0, 0), (-1, 1)]")
    for a, b in windows:
        if a > b:
            raise ValueError(f"event window ({a}, {b}) starts after it ends")
    e0, e1 = estimation
    if e0 >= e1:
        raise ValueError(f"estimation window ({e0}, {e1}) must start before it ends")
    first = min(a for a, _ in windows)
    if e1 >= first:
        raise ValueError(f"estimation window ({e0}, {e1}) must end before the earliest event "
                         f"window starts (session {first})")
    if min_estimation < 10:
        raise ValueError(f"min_estimation must be at least 10 sessions, got {min_estimation}")
    if e1 - e0 + 1 < min_estimation:
        raise ValueError(f"estimation window ({e0}, {e1}) holds {e1 - e0 + 1} sessions, fewer "
                         f"than min_estimation={min_estimation}")
    if overlap not in ("exclude", "keep"):
        raise ValueError(f"overlap must be 'exclude' or 'keep', got {overlap!r}")


def _levels(series: pd.Series, name: str) -> pd.Series:
    s = pd.to_numeric(pd.Series(series), errors="coerce")
    s.index = pd.DatetimeIndex(s.index)
    s = s[s > 0].dropna().sort_index()
    s = s[~s.index.duplicated(keep="last")]
    if len(s) < 2:
        raise ValueError(f"{name}: fewer than two positive prices")
    return s


@dataclass(frozen=True, slots=True)
class _Aligned:
    dates: pd.DatetimeIndex
    level: Float64Array  # security level per session
    r: Float64Array      # security return (r[0] = NaN)
    rm: Float64Array     # benchmark return


def _align(sec: pd.Series, bench: pd.Series) -> _Aligned:
    joined = pd.concat([sec.rename("s"), bench.rename("m")], axis=1, join="inner").dropna()
    lv = joined.to_numpy(dtype=float)
    r = np.full(len(lv), np.nan)
    rm = np.full(len(lv), np.nan)
    r[1:] = lv[1:, 0] / lv[:-1, 0] - 1.0
    rm[1:] = lv[1:, 1] / lv[:-1, 1] - 1.0
    return _Aligned(pd.DatetimeIndex(joined.index), lv[:, 0], r, rm)


def _day0(dates: pd.DatetimeIndex, ev: Event) -> int:
    side: Literal["left", "right"] = "right" if ev.after_close else "left"
    return int(dates.searchsorted(pd.Timestamp(ev.date), side=side))


def _window_car(a: _Aligned, d0: int, start: int, end: int, coef: Float64Array,
                xtx_inv: Float64Array, s2: float, df: int) -> WindowCar:
    lo, hi = d0 + start, d0 + end
    if lo < 1 or hi >= len(a.r):
        nan = float("nan")
        return WindowCar(start, end, nan, nan, nan, nan, nan, nan, df, False)
    y = a.r[lo:hi + 1]
    x = np.column_stack([np.ones(hi - lo + 1), a.rm[lo:hi + 1]])
    ar = y - x @ coef
    lengths = hi - lo + 1
    xs = x.sum(axis=0)
    var_car = s2 * (lengths + float(xs @ xtx_inv @ xs))
    sd = math.sqrt(var_car)
    car = float(ar.sum())
    t = car / sd
    lev = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
    sar = ar / np.sqrt(s2 * (1.0 + lev))
    raw = float(np.prod(1.0 + y) - 1.0)
    p = _p_t(t, df)
    return WindowCar(start, end, car, raw, sd, t, p, float(sar.sum()), df, True)


def _p_t(t: float, df: int) -> float:
    """Two-sided p-value of Student's t."""
    return float(2.0 * stdtr(df, -abs(t))) if math.isfinite(t) else float("nan")


def _p_z(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return float(2.0 * ndtr(-abs(z))) if math.isfinite(z) else float("nan")


def _react(symbol: str, a: _Aligned, ev: Event, others: Mapping[str, int],
           windows: Sequence[tuple[int, int]], estimation: tuple[int, int],
           exclude: tuple[int, int], min_estimation: int, overlap: str) -> Reaction | Skipped:
    dates = a.dates
    d0 = _day0(dates, ev)
    if d0 >= len(dates):
        return Skipped(ev.key, symbol, f"event {ev.date} is after the last price "
                                       f"({dates[-1].date()})")
    if d0 == 0:
        return Skipped(ev.key, symbol, f"event {ev.date} falls on or before the first price "
                                       f"({dates[0].date()}): not yet listed")
    notes: list[str] = []
    day0 = dates[d0].date()
    shifted = day0 != ev.date
    if ev.after_close:
        notes.append(f"announced after the close of {ev.date}: day 0 is the next session, "
                     f"{day0}")
    elif shifted:
        notes.append(f"{ev.date} is not a trading day: day 0 is the next session, {day0}")
    e_lo, e_hi = d0 + estimation[0], d0 + estimation[1]
    if e_lo < 1:
        notes.append(f"estimation window truncated at the first price ({dates[0].date()})")
    idx = np.arange(max(e_lo, 1), e_hi + 1)
    lo_w = min(s for s, _ in windows)
    hi_w = max(e for _, e in windows)
    mask = np.ones(len(idx), dtype=bool)
    hits: list[str] = []
    overlapping: list[str] = []
    for key, dj in others.items():
        if key == ev.key:
            continue
        inside = (idx >= dj + exclude[0]) & (idx <= dj + exclude[1])
        if inside.any():
            hits.append(key)
            if overlap == "exclude":
                mask &= ~inside
        if dj + lo_w <= d0 + hi_w and dj + hi_w >= d0 + lo_w:
            overlapping.append(key)
    n_excluded = int((~mask).sum())
    if hits:
        notes.append(("excluded from the estimation window the sessions of: "
                      if overlap == "exclude" else "estimation window contains: ")
                     + ", ".join(hits))
    idx = idx[mask]
    if len(idx) < min_estimation:
        return Skipped(ev.key, symbol, f"only {len(idx)} estimation sessions before {day0} "
                                       f"(min_estimation={min_estimation})")
    y = a.r[idx]
    x = np.column_stack([np.ones(len(idx)), a.rm[idx]])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    df = len(idx) - 2
    s2 = float(resid @ resid) / df
    xtx_inv = np.linalg.inv(x.T @ x)
    wins = tuple(_window_car(a, d0, s, e, coef, xtx_inv, s2, df) for s, e in windows)
    if not all(w.complete for w in wins):
        notes.append(f"data end on {dates[-1].date()}: longer windows are incomplete")
    ret0 = float(a.r[d0])
    ar0 = ret0 - float(coef[0] + coef[1] * a.rm[d0])
    pre = float(a.level[d0 - 1])
    after = np.nonzero(a.level[d0:] >= pre)[0]
    if len(after):
        rec: int | None = int(after[0])
        rec_on: date | None = dates[d0 + int(after[0])].date()
    else:
        rec, rec_on = None, None
    return Reaction(
        event=ev.key, event_date=ev.date, category=ev.category, symbol=symbol, day0=day0,
        shifted=shifted, alpha=float(coef[0]), beta=float(coef[1]), sigma=math.sqrt(s2),
        n_estimation=len(idx), n_excluded=n_excluded, ret0=ret0, ar0=ar0, windows=wins,
        pre_close=pre, recovery_days=rec, recovered_on=rec_on, recovery_censored=rec is None,
        overlapping=tuple(overlapping), notes=tuple(notes),
        residuals=pd.Series(resid, index=dates[idx], name=symbol),
    )


def _mean_offdiag_corr(resids: Sequence[pd.Series]) -> float:
    if len(resids) < 2:
        return float("nan")
    corr = pd.concat(list(resids), axis=1, sort=True).corr(min_periods=30).to_numpy()
    off = corr[~np.eye(len(corr), dtype=bool)]
    off = off[np.isfinite(off)]
    return float(off.mean()) if len(off) else float("nan")


def _cohort_stats(ev: Event, cohort: str, members: Sequence[Reaction],
                  windows: Sequence[tuple[int, int]]) -> list[CohortStat]:
    out = []
    corrs: dict[tuple[str, ...], float] = {}

    def corr_of(rs: Sequence[Reaction]) -> float:
        names = tuple(r.symbol for r in rs)
        if names not in corrs:
            corrs[names] = _mean_offdiag_corr([r.residuals for r in rs])
        return corrs[names]

    corr = corr_of(members)
    for s, e in windows:
        ws = [(m, m.window(s, e)) for m in members]
        ws = [(m, w) for m, w in ws if w.complete]
        n = len(ws)
        names = tuple(m.symbol for m, _ in ws)
        nan = float("nan")
        if n < 2:
            car = ws[0][1].car if n else nan
            out.append(CohortStat(ev.key, ev.date, ev.category, cohort, s, e, n, names, car, car,
                                  nan, nan, nan, nan, nan, nan, corr, nan, nan))
            continue
        cars = np.array([w.car for _, w in ws])
        scars = np.array([w.t for _, w in ws])
        z_i = np.array([w.csar / math.sqrt((e - s + 1) * w.df / (w.df - 2)) for _, w in ws])
        t_cs = float(cars.mean() / (cars.std(ddof=1) / math.sqrt(n)))
        patell = float(z_i.sum() / math.sqrt(n))
        bmp = float(math.sqrt(n) * scars.mean() / scars.std(ddof=1))
        r = corr_of([m for m, _ in ws])
        kp = bmp * math.sqrt((1 - r) / (1 + (n - 1) * r)) if math.isfinite(r) else nan
        out.append(CohortStat(
            ev.key, ev.date, ev.category, cohort, s, e, n, names, float(cars.mean()),
            float(np.median(cars)), t_cs, _p_t(t_cs, n - 1), patell, _p_z(patell), bmp,
            _p_t(bmp, n - 1), r, kp, _p_t(kp, n - 1),
        ))
    return out


def event_study(
    prices: Mapping[str, pd.Series],
    events: Sequence[Event] | pd.DataFrame,
    *,
    symbols: Sequence[str] | None = None,
    benchmark: str = "^GSPC",
    cohorts: Mapping[str, Sequence[str]] | None = None,
    windows: Sequence[tuple[int, int]] = DEFAULT_WINDOWS,
    estimation: tuple[int, int] = DEFAULT_ESTIMATION,
    min_estimation: int = DEFAULT_MIN_ESTIMATION,
    overlap: Literal["exclude", "keep"] = "exclude",
    exclude: tuple[int, int] = DEFAULT_EXCLUDE,
) -> EventStudy:
    """Market-model event study of ``events`` for each of ``symbols``.

    Parameters
    ----------
    prices
        Symbol (or basket name) -> adjusted closes indexed by date. Must hold
        ``benchmark``. A basket is passed as its index level.
    events
        :class:`Event` objects, or a frame for :func:`events_from_frame`. Keys
        must be unique.
    symbols
        What to study; default every key of ``prices`` except the benchmark.
    benchmark
        The market index of the market model (default ``^GSPC``).
    cohorts
        Cohort name -> member symbols (each among ``symbols``): the members'
        reactions are tested together per event and window.
    windows
        Event windows ``(start, end)`` in sessions relative to day 0, inclusive.
    estimation
        Estimation window in sessions relative to day 0, inclusive; it must end
        before the earliest event window starts.
    min_estimation
        Fewest estimation sessions a fit may use; with fewer (a recent listing,
        many excluded sessions) the pair is skipped with the reason.
    overlap
        ``"exclude"`` drops other events' sessions from the estimation window,
        ``"keep"`` only notes them (see the module docstring).
    exclude
        The sessions around another event's day 0 that ``overlap="exclude"``
        drops, default ``(-1, +5)``.

    Returns
    -------
    EventStudy
        Per (event, symbol) :class:`Reaction` rows, per (event, cohort, window)
        :class:`CohortStat` rows, and the skipped pairs with their reasons.
    """
    evs = events_from_frame(events) if isinstance(events, pd.DataFrame) else tuple(events)
    wins = tuple((int(a), int(b)) for a, b in windows)
    est = (int(estimation[0]), int(estimation[1]))
    _validate(evs, wins, est, min_estimation, overlap)
    if benchmark not in prices:
        raise ValueError(f"benchmark {benchmark!r} is not among the prices "
                         f"({', '.join(sorted(prices))})")
    syms = [s for s in prices if s != benchmark] if symbols is None else list(symbols)
    missing = [s for s in syms if s not in prices]
    if missing:
        raise ValueError(f"no prices for {', '.join(missing)}; prices hold "
                         f"{', '.join(sorted(prices))}")
    groups = {k: list(v) for k, v in (cohorts or {}).items()}
    for name, members in groups.items():
        stray = [m for m in members if m not in syms]
        if stray:
            raise ValueError(f"cohort {name!r} lists {', '.join(stray)}, which are not studied "
                             f"(symbols: {', '.join(syms)})")
    bench = _levels(prices[benchmark], benchmark)
    excl = (int(exclude[0]), int(exclude[1]))
    if excl[0] > excl[1]:
        raise ValueError(f"exclude span {exclude} starts after it ends")
    reactions: list[Reaction] = []
    skipped: list[Skipped] = []
    for sym in syms:
        a = _align(_levels(prices[sym], sym), bench)
        first = a.dates[0].date()
        # day 0 of every event inside this security's data (for exclusions and overlaps)
        in_data = {e.key: d for e in evs
                   if first <= e.date and (d := _day0(a.dates, e)) < len(a.dates)}
        for ev in evs:
            out = _react(sym, a, ev, in_data, wins, est, excl, min_estimation, overlap)
            (reactions if isinstance(out, Reaction) else skipped).append(out)
    by_pair = {(r.event, r.symbol): r for r in reactions}
    cohort_rows: list[CohortStat] = []
    for ev in evs:
        for name, members in groups.items():
            got = [by_pair[(ev.key, m)] for m in members if (ev.key, m) in by_pair]
            if got:
                cohort_rows += _cohort_stats(ev, name, got, wins)
    return EventStudy(tuple(reactions), tuple(cohort_rows), tuple(skipped), evs, benchmark, est,
                      wins, overlap)


# --------------------------------------------------------------------------- shrugging off
@dataclass(frozen=True, slots=True)
class ShrugOff:
    """Do reactions to repeated shocks shrink? OLS of ``y`` on ``x`` across events.

    ``measure``: ``"abs_car"`` (|CAR| over ``window``, a fraction), ``"car"``, or
    ``"recovery"`` (sessions). ``x``: ``"order"`` (1, 2, ... by date) or
    ``"years"`` (since the first event). ``slope`` is per unit of ``x``; ``t``
    and ``p`` (two-sided, ``n - 2`` df) test it against zero; NaN below 3
    events. ``values`` are the points, in event order.
    """

    subject: str
    category: str
    measure: str
    window: tuple[int, int]
    x: str
    n: int
    events: tuple[str, ...]
    values: tuple[float, ...]
    slope: float
    intercept: float
    se: float
    t: float
    p: float
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"event": self.events, "value": self.values})


def shrug_off(
    result: EventStudy,
    subject: str,
    *,
    category: str | None = None,
    events: Sequence[str] | None = None,
    window: tuple[int, int] = (0, 5),
    measure: Literal["abs_car", "car", "recovery"] = "abs_car",
    x: Literal["order", "years"] = "order",
) -> ShrugOff:
    """Regress the reaction of ``subject`` (a studied symbol or basket, or a
    cohort: its mean CAR) on the order or date of the events of ``category``
    (or the listed ``events``).

    Censored recovery times (not yet recovered) are left out and counted in
    the notes; events that share a day 0 with an earlier one are counted once.
    """
    if (category is None) == (events is None):
        raise ValueError("give either category or events (a list of event keys)")
    if measure not in ("abs_car", "car", "recovery"):
        raise ValueError(f"measure must be 'abs_car', 'car' or 'recovery', got {measure!r}")
    if x not in ("order", "years"):
        raise ValueError(f"x must be 'order' or 'years', got {x!r}")
    wanted = ([e for e in result.events if e.category == category] if category is not None
              else [e for e in result.events if e.key in set(events or ())])
    if events is not None:
        unknown = sorted(set(events) - {e.key for e in result.events})
        if unknown:
            raise ValueError(f"events not in the study: {', '.join(unknown)}")
    is_cohort = any(c.cohort == subject for c in result.cohorts)
    is_symbol = any(r.symbol == subject for r in result.reactions)
    if not (is_cohort or is_symbol):
        raise ValueError(f"{subject!r} is neither a studied symbol nor a cohort")
    if is_cohort and measure == "recovery":
        raise ValueError("recovery times are per security: pass the cohort's basket instead")
    if window not in result.windows:
        raise ValueError(f"window {window} was not computed; windows: {result.windows}")
    notes: list[str] = []
    points: list[tuple[date, str, float]] = []
    seen_day0: dict[date, str] = {}
    censored: list[str] = []
    for ev in sorted(wanted, key=lambda e: (e.date, e.key)):
        if is_cohort:
            try:
                c = result.cohort(ev.key, subject, *window)
            except KeyError:
                continue
            day0 = next((r.day0 for r in result.reactions
                         if r.event == ev.key and r.symbol in c.members), None)
            value = c.mean_car
            if day0 is None or not math.isfinite(value):
                continue
        else:
            try:
                r = result.reaction(ev.key, subject)
            except KeyError:
                continue
            day0 = r.day0
            if measure == "recovery":
                if r.recovery_censored or r.recovery_days is None:
                    censored.append(ev.key)
                    continue
                value = float(r.recovery_days)
            else:
                value = r.window(*window).car
                if not math.isfinite(value):
                    continue
        if day0 in seen_day0:
            notes.append(f"{ev.key} shares day 0 ({day0}) with {seen_day0[day0]}: counted once")
            continue
        seen_day0[day0] = ev.key
        points.append((day0, ev.key, abs(value) if measure == "abs_car" else value))
    if censored:
        notes.append(f"left out, not yet recovered: {', '.join(censored)}")
    n = len(points)
    keys = tuple(k for _, k, _ in points)
    ys = np.array([v for *_, v in points], dtype=float)
    nan = float("nan")
    label = category if category is not None else "selected events"
    if n < 3:
        notes.append(f"{n} event(s): no slope can be estimated")
        return ShrugOff(subject, label, measure, window, x, n, keys, tuple(ys.tolist()), nan,
                        nan, nan, nan, nan, tuple(notes))
    if x == "order":
        xs = np.arange(1.0, n + 1.0)
    else:
        first = points[0][0]
        xs = np.array([(d - first).days / 365.25 for d, *_ in points])
    xm = np.column_stack([np.ones(n), xs])
    coef, *_ = np.linalg.lstsq(xm, ys, rcond=None)
    resid = ys - xm @ coef
    df = n - 2
    if df > 0:
        s2 = float(resid @ resid) / df
        se = math.sqrt(s2 * float(np.linalg.inv(xm.T @ xm)[1, 1]))
    else:
        se = nan
    t = float(coef[1] / se) if se and math.isfinite(se) else nan
    p = _p_t(t, df)
    if n < SMALL_SAMPLE:
        notes.append(f"only {n} events: a slope from so few points is an anecdote, not "
                     "evidence")
    return ShrugOff(subject, label, measure, window, x, n, keys, tuple(ys.tolist()),
                    float(coef[1]), float(coef[0]), se, t, p, tuple(notes))
