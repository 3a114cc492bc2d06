"""Judging a warning by what followed: forward drawdowns, calm weeks, crash
peaks, lead times and false-alarm shares.

A monitor is judged by what it said at the time (the point-in-time readings
of :mod:`indicators.track_record`) against what happened next, which only
hindsight knows. Everything here is pure arithmetic on a price path and a
series of 0/1 warning flags; nothing here is a reading.

Definitions (Greenwood, Shleifer & You 2019 define a crash as a 40% drawdown
within two years; the same horizon is used for both sides of the ledger):

``forward maximum drawdown`` over ``h`` months after date ``t``
    ``min over s in (t, t + h] of P_s / max_{u in [t, s]} P_u - 1``: the
    deepest fall from any peak reached after ``t`` (``t`` included) to a later
    close within the horizon. 0 when the price never falls; NaN when there is
    no price after ``t``.
``crash follows`` date ``t``
    The forward maximum drawdown over two years reaches ``-crash`` (40%).
``calm`` date
    No crash follows it *and* the two years after it are observed in full
    (the last price is at least two years later). A date whose two years are
    not observed yet and that has no crash so far is undetermined, in neither
    ledger.
``crash peak`` (found with hindsight)
    The highest close of an underwater spell (from a running high to the next
    new high) whose fall reaches ``-crash`` within two years of that high.
``first warning`` before a peak
    The earliest flagged reading in the two years before the peak (the peak
    day included): a warning counts over the same horizon over which a calm
    date is judged. ``lead`` is the time from it to the peak, in calendar
    days and in weeks (days / 7).
``false-alarm share``
    Flagged calm dates / calm dates, inside the evaluation window. Its twin,
    the ``hit share``, is flagged dates followed by a crash / dates followed
    by a crash.

References
----------
Greenwood, R., Shleifer, A. and You, Y. (2019), "Bubbles for Fama", Journal of
Financial Economics 131(1), 20-43.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from indicators._numba import jit

#: GSY's crash: a fall of 40% from a peak ...
CRASH = 0.40
#: ... within two years.
CRASH_YEARS = 2


# --------------------------------------------------------------------------- kernels
def forward_mdd_python(prices, starts, ends, out):
    """``out[k]`` = the deepest peak-to-trough fall of ``prices[starts[k] .. ends[k]]``
    (``starts[k]`` included as the first possible peak); NaN when the slice
    holds no price after its start."""
    for k in range(starts.shape[0]):
        a, b = starts[k], ends[k]
        if b <= a:
            out[k] = np.nan
            continue
        peak = prices[a]
        worst = 0.0
        for i in range(a + 1, b + 1):
            p = prices[i]
            peak = max(peak, p)
            dd = p / peak - 1.0
            worst = min(worst, dd)
        out[k] = worst


forward_mdd = jit(forward_mdd_python)


# --------------------------------------------------------------------------- hindsight
def _clean(price: pd.Series) -> pd.Series:
    s = pd.to_numeric(price, errors="coerce")
    s.index = pd.DatetimeIndex(s.index)
    s = s[np.isfinite(s.to_numpy(dtype=float)) & (s.to_numpy(dtype=float) > 0)].sort_index()
    return s[~s.index.duplicated(keep="last")]


def forward_max_drawdown(price: pd.Series, dates: Iterable, months: int) -> pd.Series:
    """Forward maximum drawdown (fraction, <= 0) over ``months`` calendar months
    after each of ``dates``, from daily closes ``price`` (see the module
    docstring). The start is the last close on or before each date."""
    s = _clean(price)
    idx = pd.DatetimeIndex(list(dates))
    if s.empty or not len(idx):
        return pd.Series(np.nan, index=idx, dtype=float)
    t = s.index.to_numpy("datetime64[ns]")
    starts = np.searchsorted(t, idx.to_numpy("datetime64[ns]"), side="right") - 1
    horizon = (idx + pd.DateOffset(months=months)).to_numpy("datetime64[ns]")
    ends = np.searchsorted(t, horizon, side="right") - 1
    out = np.empty(len(idx))
    ok = starts >= 0
    forward_mdd(np.ascontiguousarray(s.to_numpy(dtype=float)), np.where(ok, starts, 0).astype(
        np.int64), np.where(ok, ends, -1).astype(np.int64), out)
    return pd.Series(np.where(ok, out, np.nan), index=idx, dtype=float)


def calm_flags(price: pd.Series, dates: Iterable, *, crash: float = CRASH,
               years: int = CRASH_YEARS) -> pd.Series:
    """Per date: 1.0 calm, 0.0 a crash follows, NaN undetermined (see the
    module docstring)."""
    s = _clean(price)
    idx = pd.DatetimeIndex(list(dates))
    mdd = forward_max_drawdown(s, idx, 12 * years)
    last = s.index[-1] if len(s) else pd.Timestamp.min
    observed = (idx + pd.DateOffset(years=years)) <= last
    out = np.where(mdd.to_numpy() <= -crash, 0.0, np.where(observed & mdd.notna(), 1.0, np.nan))
    return pd.Series(out, index=idx, dtype=float)


def crash_peaks(price: pd.Series, *, crash: float = CRASH, years: int = CRASH_YEARS
                ) -> list[pd.Timestamp]:
    """Dates of the running highs followed, within ``years``, by a fall of
    ``crash`` or more before a new high (see the module docstring)."""
    s = _clean(price)
    if len(s) < 2:
        return []
    v = s.to_numpy(dtype=float)
    high = np.maximum.accumulate(v)
    starts = np.flatnonzero(np.r_[True, v[1:] > high[:-1]])
    peaks = []
    dd = v / high - 1.0
    for k, a in enumerate(starts):
        b = starts[k + 1] if k + 1 < starts.size else v.size
        hit = np.flatnonzero(dd[a:b] <= -crash)
        if hit.size and s.index[a + hit[0]] <= s.index[a] + pd.DateOffset(years=years):
            peaks.append(s.index[a])
    return peaks


# --------------------------------------------------------------------------- warnings
@dataclass(frozen=True, slots=True)
class Lead:
    """The first warning before one peak."""

    peak: date
    first: date | None
    days: int | None
    weeks: float | None


def first_warning(flags: pd.Series, peak: date | pd.Timestamp, *,
                  years: int = CRASH_YEARS) -> Lead:
    """The earliest flagged date in the ``years`` before ``peak`` (inclusive)
    and its lead time; ``first=None`` when nothing was flagged then."""
    p = pd.Timestamp(peak)
    f = pd.to_numeric(flags, errors="coerce")
    f.index = pd.DatetimeIndex(f.index)
    window = f[(f.index >= p - pd.DateOffset(years=years)) & (f.index <= p)]
    hits = window.index[window.to_numpy(dtype=float) > 0.5]
    if not len(hits):
        return Lead(p.date(), None, None, None)
    days = int((p - hits[0]).days)
    return Lead(p.date(), hits[0].date(), days, round(days / 7.0, 1))


@dataclass(frozen=True, slots=True)
class Ledger:
    """Calm and pre-crash dates inside an evaluation window, and how many of
    each were flagged; shares are None when there is no such date."""

    calm: int
    false_alarms: int
    pre_crash: int
    hits: int
    first_flag: date | None = None

    @property
    def false_alarm_share(self) -> float | None:
        return self.false_alarms / self.calm if self.calm else None

    @property
    def hit_share(self) -> float | None:
        return self.hits / self.pre_crash if self.pre_crash else None


def ledger(flags: pd.Series, calm: pd.Series, start: date | None = None,
           end: date | None = None) -> Ledger:
    """Count calm and pre-crash dates between ``start`` and ``end`` (inclusive)
    with a reading (a flag of 0 or 1), and those flagged; ``first_flag`` is the
    first flagged date in the window, calm or not."""
    f = pd.to_numeric(flags, errors="coerce")
    f.index = pd.DatetimeIndex(f.index)
    c = pd.to_numeric(calm, errors="coerce").reindex(f.index)
    keep = f.notna() & c.notna()
    if start is not None:
        keep &= f.index >= pd.Timestamp(start)
    if end is not None:
        keep &= f.index <= pd.Timestamp(end)
    fv, cv = f[keep].to_numpy(dtype=float) > 0.5, c[keep].to_numpy(dtype=float)
    inside = f.notna()
    if start is not None:
        inside &= f.index >= pd.Timestamp(start)
    if end is not None:
        inside &= f.index <= pd.Timestamp(end)
    flagged = f.index[inside & (f > 0.5)]
    return Ledger(calm=int((cv == 1.0).sum()), false_alarms=int((fv & (cv == 1.0)).sum()),
                  pre_crash=int((cv == 0.0).sum()), hits=int((fv & (cv == 0.0)).sum()),
                  first_flag=flagged[0].date() if len(flagged) else None)


# --------------------------------------------------------------------------- tables
def lead_table(flags: Mapping[str, Mapping[str, pd.Series]],
               peaks: Mapping[str, Sequence[tuple[date, str]]]) -> pd.DataFrame:
    """First warnings per key, peak and procedure.

    Parameters
    ----------
    flags
        key -> procedure -> 0/1 flag series.
    peaks
        key -> ``(peak date, origin)`` pairs (``origin``: ``"reference"``,
        ``"user"`` or ``"found"``).

    Returns
    -------
    DataFrame ``key, peak, origin, procedure, first_warning, lead_weeks,
    lead_days`` (empty warning and lead when nothing was flagged).
    """
    rows = []
    for key, procs in flags.items():
        for peak, origin in peaks.get(key, ()):
            for proc, f in procs.items():
                lead = first_warning(f, peak)
                rows.append({"key": key, "peak": lead.peak, "origin": origin, "procedure": proc,
                             "first_warning": lead.first, "lead_weeks": lead.weeks,
                             "lead_days": lead.days})
    cols = ["key", "peak", "origin", "procedure", "first_warning", "lead_weeks", "lead_days"]
    return pd.DataFrame(rows, columns=cols)


def alarm_table(flags: Mapping[str, Mapping[str, pd.Series]], calm: Mapping[str, pd.Series],
                start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """False alarms per key and procedure inside ``start .. end``.

    Returns
    -------
    DataFrame ``key, procedure, first_flag, calm_dates, false_alarms,
    false_alarm_share, pre_crash_dates, hits, hit_share`` (shares as
    fractions, None without dates; ``first_flag`` the first flagged date in
    the window).
    """
    rows = []
    for key, procs in flags.items():
        for proc, f in procs.items():
            led = ledger(f, calm[key], start, end)
            rows.append({"key": key, "procedure": proc, "first_flag": led.first_flag,
                         "calm_dates": led.calm,
                         "false_alarms": led.false_alarms,
                         "false_alarm_share": led.false_alarm_share,
                         "pre_crash_dates": led.pre_crash, "hits": led.hits,
                         "hit_share": led.hit_share})
    cols = ["key", "procedure", "first_flag", "calm_dates", "false_alarms", "false_alarm_share",
            "pre_crash_dates", "hits", "hit_share"]
    return pd.DataFrame(rows, columns=cols)
