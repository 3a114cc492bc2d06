"""Canonical shapes every source produces, and their validation.

Prices: a DataFrame indexed by ``date`` (``DatetimeIndex``, ascending, unique)
with ``open, high, low, close, adj_close, volume`` (floats; volume may be
missing). Facts: a list of :class:`FactRow` dicts matching the
``fundamental_fact`` table. Sources rename their columns to these through
declared alias maps (:data:`PRICE_ALIASES`) rather than ad-hoc code.

What a daily bar may hold (:class:`PriceLimits`, checked by
:func:`canonical_bars`; a file or answer that breaks any rule is rejected
whole, naming the line, column, value and rule):

* a date between :data:`EARLIEST_DATE` (1900-01-01, or the instrument's
  listing date where the universe knows it) and today in exchange time
  (America/New_York);
* prices (``open, high, low, close, adj_close``) that are finite numbers from
  :data:`MIN_PRICE` (1e-6, the smallest a six-decimal vendor file can write)
  to :data:`MAX_PRICE` (1e8: BRK-A, the dearest US share, trades near 7e5 and
  the highest index levels are near 5e4);
* ``high >= low`` and ``open`` and ``close`` inside ``[low, high]``, each
  within :data:`OHLC_TOLERANCE` (0.5 %, a cent of rounding on a two-dollar
  price); the real files of ``../shared/data`` break none of these even
  without tolerance;
* a volume that is a finite whole number of shares from 0 to
  :data:`MAX_VOLUME` (2**53, the largest whole number a float64 holds exactly;
  well inside the int64 column);
* one row per date.

Fact values (see :mod:`ingest.companyfacts`) must be finite and no larger in
magnitude than :data:`FACT_MAGNITUDE` for their unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from bubblewatch.core.errors import EmptyDataError, IngestError

PRICE_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]
PRICE_FIELDS = ["open", "high", "low", "close", "adj_close"]
REQUIRED_PRICE_COLUMNS = ["date", "close"]

#: Source column name (lower-cased, stripped) -> canonical name.
PRICE_ALIASES: dict[str, str] = {
    "date": "date", "datetime": "date",
    "open": "open", "high": "high", "low": "low", "close": "close",
    "adj close": "adj_close", "adj_close": "adj_close", "adjclose": "adj_close",
    "adjusted close": "adj_close",
    "volume": "volume",
}

#: Texts that mean "no value" in an optional column.
MISSING_TEXTS = frozenset({"", "nan", "NaN", "null", "None"})

#: Exchange time zone: a bar's date is a New York trading date.
EXCHANGE_TZ = ZoneInfo("America/New_York")
#: No bar or filing before this date is accepted.
EARLIEST_DATE = date(1900, 1, 1)
#: Smallest and largest accepted price, in the quote currency.
MIN_PRICE = 1e-6
MAX_PRICE = 1e8
#: Relative slack for ``low <= open, close <= high`` (vendor rounding).
OHLC_TOLERANCE = 0.005
#: Largest accepted volume (2**53: every whole number up to it is exact in float64).
MAX_VOLUME = 2**53

#: Largest accepted |value| of a companyfacts fact, by unit. USD: 1e15, ten
#: times world output (about 1.1e14 USD a year); shares: 1e13, a hundred times
#: the largest authorised share counts (NVIDIA: 8e10); USD/shares: 1e10, room
#: for the scale slips real filings carry (NVIDIA's 2014 10-Q files an average
#: buy-back price of 368,600,000 USD/share); pure (ratios, counts): 1e12.
FACT_MAGNITUDE: dict[str, float] = {
    "USD": 1e15, "shares": 1e13, "USD/shares": 1e10, "pure": 1e12,
}
#: Bound for any other unit (other currencies, "segment", "employee" ...).
DEFAULT_FACT_MAGNITUDE = 1e15

#: How many offending lines an error names before summarising the rest.
NAMED_ROWS = 5


def today_in_exchange_time() -> date:
    """Today's date in New York (a bar dated later cannot exist yet)."""
    return datetime.now(EXCHANGE_TZ).date()


@dataclass(frozen=True, slots=True)
class PriceLimits:
    """What a daily bar may hold (module docstring); ``latest`` None means
    today in exchange time, read when the limits are applied."""

    earliest: date = EARLIEST_DATE
    latest: date | None = None
    min_price: float = MIN_PRICE
    max_price: float = MAX_PRICE
    ohlc_tolerance: float = OHLC_TOLERANCE
    max_volume: int = MAX_VOLUME
    earliest_reason: str = "the earliest date accepted"

    def resolved_latest(self) -> date:
        return self.latest if self.latest is not None else today_in_exchange_time()

    def after_listing(self, listed: date | None, symbol: str) -> PriceLimits:
        """These limits, starting no earlier than ``symbol``'s listing date."""
        if listed is None or listed <= self.earliest:
            return self
        return replace(self, earliest=listed, earliest_reason=f"{symbol}'s listing date")


class FactRow(TypedDict):
    cik: int
    symbol: str | None
    taxonomy: str
    concept: str
    unit: str
    period_start: date
    period_end: date
    instant: bool
    value: float
    fiscal_year: int | None
    fiscal_period: str | None
    form: str
    filed: date
    accession: str
    frame: str | None
    source: str


class DateLedger:
    """Dates already read from earlier chunks of one file, with their lines,
    so a duplicate is found across chunks (16 bytes a row)."""

    def __init__(self) -> None:
        self._days = np.empty(0, dtype=np.int64)
        self._lines = np.empty(0, dtype=np.int64)

    def first_seen(self, days: np.ndarray) -> np.ndarray:
        """For each day, the line it was first read on, or 0 if new."""
        if not len(self._days):
            return np.zeros(len(days), dtype=np.int64)
        pos = np.searchsorted(self._days, days).clip(max=len(self._days) - 1)
        hit = self._days[pos] == days
        return np.where(hit, self._lines[pos], 0)

    def add(self, days: np.ndarray, lines: np.ndarray) -> None:
        d = np.concatenate([self._days, days])
        ln = np.concatenate([self._lines, lines])
        order = np.argsort(d, kind="stable")
        self._days, self._lines = d[order], ln[order]


def canonical_positions(names: Sequence[object], source: str) -> dict[int, str]:
    """Position -> canonical name of every recognised column of a header.

    Raises
    ------
    IngestError
        A required column is missing, or two columns mean the same thing.
    """
    positions: dict[int, str] = {}
    for i, col in enumerate(names):
        key = str(col).strip().lower()
        if key in PRICE_ALIASES:
            positions[i] = PRICE_ALIASES[key]
    canon = list(positions.values())
    twice = sorted({c for c in canon if canon.count(c) > 1})
    if twice:
        raise IngestError(f"more than one column means {', '.join(twice)}; keep one of each",
                          source=source, location="header")
    missing = [c for c in REQUIRED_PRICE_COLUMNS if c not in canon]
    if missing:
        raise IngestError(
            f"missing column(s) {', '.join(missing)}; expected a header like "
            "'date,open,high,low,close,adj_close,volume' or Yahoo's "
            "'Date,Open,High,Low,Close,Adj Close,Volume'",
            source=source, location="header",
        )
    return positions


def quoted(value: object, limit: int = 40) -> str:
    """``repr`` of a value for an error message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} characters)"


def _lines_phrase(lines: np.ndarray) -> str:
    named = ", ".join(str(int(n)) for n in lines[:NAMED_ROWS])
    more = len(lines) - NAMED_ROWS
    word = "line" if len(lines) == 1 else "lines"
    return f"rejected {word} {named}" + (f" and {more} more" if more > 0 else "")


def _reject(source: str, lines: np.ndarray, bad: np.ndarray, column: str, message: str,
            allowed: str) -> IngestError:
    """One error for rows ``bad`` (a mask): the first is located, all are counted."""
    where = lines[bad]
    return IngestError(f"{message}; allowed: {allowed} ({_lines_phrase(where)})",
                       source=source, location=f"line {int(where[0])}, column {column}")


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def canonical_bars(raw: pd.DataFrame, source: str, *, first_row: int = 2,
                   lines: Sequence[int] | np.ndarray | None = None,
                   limits: PriceLimits | None = None,
                   seen: DateLedger | None = None) -> pd.DataFrame:
    """Rename, type-check and validate raw price rows.

    Parameters
    ----------
    raw
        Rows as read (a ``date`` column or index, any alias of the price
        columns; cells as text or numbers).
    source
        The file or endpoint, named in errors.
    first_row
        File line number of ``raw``'s first row (2 for a CSV with a header),
        used when ``lines`` is not given.
    lines
        File line number of every row of ``raw`` (files with blank lines).
    limits
        What a bar may hold; the module defaults when None.
    seen
        Dates of earlier chunks of the same file; this chunk's are added.

    Raises
    ------
    IngestError
        Naming the file, line, column, value and what is allowed: missing
        columns, unparseable or out-of-range dates, non-numeric, non-finite or
        out-of-range prices and volumes, high below low, open or close outside
        the day's range, missing closes, duplicate dates.
    EmptyDataError
        No rows at all.
    """
    limits = limits or PriceLimits()
    df = raw
    if df.index.name is not None and str(df.index.name).strip().lower() in PRICE_ALIASES:
        df = df.reset_index()
    positions = canonical_positions(list(df.columns), source)
    df = df.iloc[:, list(positions)]
    df.columns = list(positions.values())
    if df.empty:
        raise EmptyDataError("no price rows", source=source)
    n = len(df)
    line_no = (np.asarray(lines, dtype=np.int64) if lines is not None
               else np.arange(first_row, first_row + n, dtype=np.int64))
    if len(line_no) != n:
        raise ValueError(f"{len(line_no)} line numbers for {n} rows")
    days = _dates(df["date"], source, line_no, limits)
    out = pd.DataFrame(index=pd.DatetimeIndex(days.astype("datetime64[us]"), name="date"))
    for col in PRICE_COLUMNS:
        if col not in df.columns:
            out[col] = np.nan
            continue
        out[col] = _numbers(df[col], col, source, line_no, limits)
    close = out["close"].to_numpy()
    if np.isnan(close).any():
        raise _reject(source, line_no, np.isnan(close), "close", "close is missing",
                      "every row needs a close")
    adj = out["adj_close"].to_numpy()
    if np.isnan(adj).all():
        out["adj_close"] = close
    elif np.isnan(adj).any():
        raise _reject(source, line_no, np.isnan(adj), "adj_close", "adj_close is missing",
                      "an adj_close on every row, or no adj_close column at all")
    _check_ohlc(out, source, line_no, limits.ohlc_tolerance)
    _check_duplicates(days, source, line_no, seen)
    return out.sort_index()


def _dates(col: pd.Series, source: str, lines: np.ndarray, limits: PriceLimits) -> np.ndarray:
    """ISO dates as ``datetime64[D]``; unparseable or out-of-range dates raise."""
    text = col.astype(str).str.strip().str[:10]
    parsed = pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")
    days = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = parsed.notna().to_numpy()
    days[ok] = parsed[ok].to_numpy().astype("datetime64[D]")
    # dates outside pandas' Timestamp range (year 3737 with nanosecond pandas)
    for i in np.flatnonzero(~ok):
        try:
            days[i] = np.datetime64(date.fromisoformat(text.iloc[i]), "D")
        except ValueError:
            continue
    bad = np.isnat(days)
    if bad.any():
        i = int(np.argmax(bad))
        raise _reject(source, lines, bad, "date",
                      f"date {quoted(col.iloc[i])} is not an ISO date", "YYYY-MM-DD")
    earliest, latest = np.datetime64(limits.earliest, "D"), np.datetime64(
        limits.resolved_latest(), "D")
    allowed = f"dates from {limits.earliest} to {latest}"
    early = days < earliest
    if early.any():
        i = int(np.argmax(early))
        raise _reject(source, lines, early, "date",
                      f"date {days[i]} is before {limits.earliest} ({limits.earliest_reason})",
                      allowed)
    late = days > latest
    if late.any():
        i = int(np.argmax(late))
        when = "today in New York" if limits.latest is None else "the latest date accepted"
        raise _reject(source, lines, late, "date",
                      f"date {days[i]} is after {latest} ({when})", allowed)
    return days


def _numbers(col: pd.Series, name: str, source: str, lines: np.ndarray,
             limits: PriceLimits) -> np.ndarray:
    """One numeric column as float64 (NaN where missing); rule breaks raise."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        text = None
    else:
        text = col.astype(str).str.strip()
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        nonnum = np.isnan(values) & ~text.isin(MISSING_TEXTS).to_numpy()
        if nonnum.any():
            i = int(np.argmax(nonnum))
            raise _reject(source, lines, nonnum, name,
                          f"{name} value {quoted(text.iloc[i])} is not a number",
                          "a decimal number (an empty cell where the value is unknown)")

    def shown(i: int) -> str:
        return quoted(text.iloc[i]) if text is not None else _fmt(values[i])

    present = ~np.isnan(values)
    if name == "volume":
        allowed = f"a whole number of shares from 0 to {limits.max_volume}"
        checks = [
            (present & ~np.isfinite(values), "is not finite"),
            (present & np.isfinite(values) & (values < 0), "is negative"),
            (present & np.isfinite(values) & (values > limits.max_volume), "is too large"),
            (present & np.isfinite(values) & (values != np.floor(values)),
             "is not a whole number"),
        ]
    else:
        allowed = f"a finite price from {limits.min_price:g} to {limits.max_price:g}"
        checks = [
            (present & ~np.isfinite(values), "is not a finite price"),
            (present & (values <= 0), "is not a positive price"),
            (present & (values > 0) & (values < limits.min_price), "is below the smallest price"),
            (present & np.isfinite(values) & (values > limits.max_price),
             "is above the largest price"),
        ]
    for bad, what in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise _reject(source, lines, bad, name, f"{name} {shown(i)} {what}", allowed)
    return values


def _check_ohlc(bars: pd.DataFrame, source: str, lines: np.ndarray, tol: float) -> None:
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    slack = f"within {tol:.1%} for rounding"
    with np.errstate(invalid="ignore"):
        inverted = lo > h * (1 + tol)
        if inverted.any():
            i = int(np.argmax(inverted))
            raise _reject(source, lines, inverted, "high",
                          f"high {_fmt(h[i])} is below low {_fmt(lo[i])}", f"high >= low ({slack})")
        for name, v in (("open", o), ("close", c)):
            outside = (v > h * (1 + tol)) | (v < lo * (1 - tol))
            if outside.any():
                i = int(np.argmax(outside))
                raise _reject(source, lines, outside, name,
                              f"{name} {_fmt(v[i])} is outside the day's range "
                              f"[low {_fmt(lo[i])}, high {_fmt(h[i])}]",
                              f"low <= {name} <= high ({slack})")


def _check_duplicates(days: np.ndarray, source: str, lines: np.ndarray,
                      seen: DateLedger | None) -> None:
    ints = days.astype(np.int64)
    order = np.argsort(ints, kind="stable")
    sorted_days = ints[order]
    repeat = np.zeros(len(ints), dtype=bool)
    repeat[order[1:]] = sorted_days[1:] == sorted_days[:-1]
    earlier = np.zeros(len(ints), dtype=np.int64)
    if repeat.any():
        first_pos = np.searchsorted(sorted_days, ints)  # first row holding each date
        earlier = np.where(repeat, lines[order[first_pos]], 0)
    if seen is not None:
        before = seen.first_seen(ints)
        earlier = np.where(before > 0, before, earlier)
    dup = earlier > 0
    if dup.any():
        i = int(np.argmax(dup))
        raise _reject(source, lines, dup, "date",
                      f"duplicate date {days[i]} (also on line {int(earlier[i])})",
                      "one row per date")
    if seen is not None:
        seen.add(ints, lines)
