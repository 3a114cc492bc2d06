"""Run-up (Greenwood, Shleifer & You 2019): trailing two-year return, raw and
net of the market, with volatility, flagged at 100%.

Greenwood, Shleifer and You study US industry portfolios that rose 100% or
more over two years. Such run-ups do not predict low average returns, but
they do predict a much higher chance of a crash (a 40% drawdown within the
next two years): about 20% after a 50% run-up, 53% after 100% and 80% after
150% (working-paper figures, US industries 1928-2014). Those base rates come
from the reference table and are shown beside the series. History before the
last ``daily_days`` trading days (two years) is stored weekly (last trading
day of each week); see :func:`thin`.

Two definitions matter for comparisons:

* **Net of the market.** The market index (S&P 500) is a *price* index, so
  ``ret_2y_net`` is the security's price return (``close``, no dividends)
  minus the index's price return over the same dates. ``ret_2y`` itself is
  the total return (``adj_close``, dividends reinvested), as in GSY.
* **Baskets.** A basket's two-year return is taken over the members that
  have prices at both ends of the window (:func:`window_returns`), so a
  listing or a member whose price file ends never enters or leaves a return
  half way; ``n_members`` and ``coverage`` say how many of the declared
  members that is on each date, and the metadata gives each member's first
  and last price date. A basket never shrinks silently.

This module also holds the price helpers the other cycle indicators share:
:func:`close_series` (total-return or price-only closes of one symbol),
:func:`basket_frame`/:func:`basket_index` (an equal-weighted, daily-rebalanced
basket index with its member count) and :func:`key_series`.

References
----------
Greenwood, R., Shleifer, A. and You, Y. (2019), "Bubbles for Fama",
Journal of Financial Economics 131(1), 20-43; NBER Working Paper 23191 (2017).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from indicators.coverage import MemberSpan
from indicators.registry import (
    Column,
    ComputeContext,
    DataSource,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

TRADING_DAYS = 252


# --------------------------------------------------------------------------- price helpers
def close_series(source: DataSource, symbol: str, column: str = "adj_close") -> pd.Series:
    """Closes of ``symbol`` indexed by date, positive values only; empty if
    there are no prices.

    ``column="adj_close"`` (default) gives total-return closes (split- and
    dividend-adjusted; ``close`` when a source has no adjusted close),
    ``column="close"`` price-only closes (split-adjusted), the basis of a price
    index such as the S&P 500.
    """
    return positive_closes(source.prices(symbol), column).rename(symbol)


def positive_closes(bars: pd.DataFrame | None, column: str = "adj_close") -> pd.Series:
    """Column ``column`` of daily ``bars`` (``close`` where the bars have no
    such column) as positive floats, ascending, one per date (the last row of
    a repeated date); empty for no bars."""
    if bars is None or bars.empty:
        return pd.Series(dtype=float)
    col = column if column in bars.columns else "close"
    s = bars[col]
    if (s.dtype == np.float64 and isinstance(bars.index, pd.DatetimeIndex)
            and bars.index.is_monotonic_increasing and bars.index.is_unique):
        v = s.to_numpy()  # already one float per date, ascending: skip the sort
        return s if bool((v > 0).all()) else s[v > 0]
    s = pd.to_numeric(s, errors="coerce")
    s.index = pd.DatetimeIndex(bars.index)
    s = s[s > 0].dropna().sort_index()
    return s[~s.index.duplicated(keep="last")]


def member_returns(closes: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Daily simple returns of each member on the union of their dates (NaN
    on a member's first day, and where it has no price that day or the day
    before); members with fewer than two prices are left out."""
    series = {k: s for k, s in closes.items() if len(s) > 1}
    if not series:
        return pd.DataFrame()
    prices = pd.concat(series, axis=1, sort=True)
    return prices.pct_change(fill_method=None)


def basket_frame(closes: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Equal-weighted, daily-rebalanced basket index with its coverage.

    Each day's return is the mean of the simple returns of the members that
    have one that day; a member joins the day after its first price, so
    listings (CoreWeave in 2025) and gaps never make the index jump.

    Returns
    -------
    DataFrame
        ``level`` (1.0 on the first day) and ``n_members`` (members in that
        day's return; 0 on the first day).
    """
    rets = member_returns(closes)
    if rets.empty:
        return pd.DataFrame(columns=["level", "n_members"], dtype=float)
    mean = rets.mean(axis=1, skipna=True).fillna(0.0)
    return pd.DataFrame({"level": (1.0 + mean).cumprod(),
                         "n_members": rets.notna().sum(axis=1).astype(float)})


def basket_index(closes: Mapping[str, pd.Series]) -> pd.Series:
    """The ``level`` of :func:`basket_frame` (1.0 on the first day)."""
    return basket_frame(closes)["level"].rename("basket")


def window_returns(closes: Mapping[str, pd.Series], window: int) -> pd.DataFrame:
    """Basket return over the trailing ``window`` days, on the same members
    at both ends of the window.

    On each date ``t`` of the members' union calendar the basket is the set
    ``S_t`` of members with a price both ``window`` rows earlier and on ``t``:
    a member that lists inside the window, or whose prices end before ``t``,
    is left out of that date's return instead of entering or leaving half
    way. The return is the daily-rebalanced equal-weighted return of
    ``S_t`` over the window, ``prod(1 + mean_{i in S_t} r_i,d) - 1``.

    Returns
    -------
    DataFrame
        ``ret`` (fraction), ``vol`` (annualised standard deviation of the
        basket's daily log returns over the window) and ``n_members``
        (``|S_t|``), indexed by the union calendar (NaN before a full window).
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 trading days, got {window}")
    series = {k: s for k, s in closes.items() if len(s) > 1}
    out = pd.DataFrame(columns=["ret", "vol", "n_members"], dtype=float)
    if not series:
        return out
    prices = pd.concat(series, axis=1, sort=True)
    rets = prices.pct_change(fill_method=None).to_numpy()
    have = prices.notna().to_numpy()
    n = len(prices)
    ret = np.full(n, np.nan)
    vol = np.full(n, np.nan)
    count = np.zeros(n)
    if n > window:
        members = have[window:] & have[:-window]  # S_t for t = window .. n-1
        keys = np.packbits(members, axis=1)
        uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
        for j in range(len(uniq)):
            rows = np.flatnonzero(inverse.ravel() == j) + window
            cols = members[rows[0] - window]
            if not cols.any():
                continue
            sub = rets[:, cols]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # days without any return
                day = np.nanmean(sub, axis=1)
            logr = np.log1p(np.nan_to_num(day, nan=0.0))
            cum = np.concatenate([[0.0], np.cumsum(logr)])
            ret[rows] = np.expm1(cum[rows + 1] - cum[rows + 1 - window])
            roll = pd.Series(logr).rolling(window, min_periods=window).std(ddof=1).to_numpy()
            vol[rows] = roll[rows] * np.sqrt(TRADING_DAYS)
            count[rows] = cols.sum()
    out = pd.DataFrame({"ret": ret, "vol": vol, "n_members": np.where(np.isnan(ret), np.nan,
                                                                       count)},
                       index=prices.index)
    return out


def basket_series(source: DataSource, members: Sequence[str],
                  universe: Universe | None = None) -> pd.Series:
    """:func:`basket_index` of the members' adjusted closes (with ``universe``,
    each only while a member: :func:`indicators.membership.during_membership`)."""
    from indicators.membership import during_membership

    return basket_index({m: close_series(source, m) if universe is None
                         else during_membership(close_series(source, m), universe, m)
                         for m in members})


def key_series(source: DataSource, universe: Universe, key: str) -> pd.Series:
    """Closes of a symbol, or the basket index when ``key`` names a basket."""
    if key in universe.baskets:
        return basket_series(source, universe.baskets[key], universe).rename(key)
    return close_series(source, key)


def member_spans(closes: Mapping[str, pd.Series]) -> dict[str, MemberSpan]:
    """First and last price date of each member (both None without prices)."""
    return {m: (MemberSpan(first=s.index[0].date(), last=s.index[-1].date()) if len(s)
                else MemberSpan()) for m, s in closes.items()}


def shrink_note(spans: Mapping[str, MemberSpan], last_day: date | None) -> str | None:
    """Says which members' prices end before ``last_day`` or are missing, so a
    basket never shrinks silently; None when every member runs to the end."""
    if last_day is None:
        return None
    ended = sorted(((m, s.last) for m, s in spans.items()
                    if s.last is not None and s.last < last_day), key=lambda x: x[1])
    none = [m for m, s in spans.items() if s.last is None]
    parts = [f"{m} prices end {d}" for m, d in ended]
    if none:
        parts.append(f"no prices for {', '.join(none)}")
    if not parts:
        return None
    return (f"the basket holds fewer members at the end ({'; '.join(parts)}): "
            f"see the n_members and coverage columns")


def symbol_and_basket_keys(universe: Universe) -> list[str]:
    """Every symbol of the universe, then the AI and dot-com baskets."""
    baskets = [b for b in ("ai_basket", "dotcom_basket") if b in universe.baskets]
    return [*universe.symbols, *baskets]


def trim(frame: pd.DataFrame, start: str | date | None) -> pd.DataFrame:
    """Rows on or after ``start`` (all rows when None)."""
    if start is None or frame.empty:
        return frame
    return frame[frame.index >= pd.Timestamp(start)]


def thin(frame: pd.DataFrame, daily_days: int) -> pd.DataFrame:
    """Keep the last ``daily_days`` rows daily and, before them, the last
    trading day of each week (Friday-ending weeks); ``daily_days <= 0`` keeps
    every row. ``frame``'s dates ascend.

    Long daily histories of slow-moving statistics (two-year returns,
    drawdowns) cost storage and time without adding information; charts and
    alerts use the recent daily rows.
    """
    if daily_days <= 0 or len(frame) <= daily_days:
        return frame
    weeks = friday_weeks(pd.DatetimeIndex(frame.index))
    keep = np.ones(len(frame), dtype=bool)
    cut = len(frame) - daily_days
    old = weeks[:cut]
    keep[:cut] = np.r_[old[1:] != old[:-1], True]  # ascending dates: last of each week
    return frame[keep]


def friday_weeks(index: pd.DatetimeIndex) -> np.ndarray:
    """Week number of each date, weeks running Saturday to Friday (pandas'
    ``W-FRI`` periods), counted from the week of 1970-01-02.

    >>> friday_weeks(pd.DatetimeIndex(["2024-01-04", "2024-01-05", "2024-01-06"])).tolist()
    [2817, 2817, 2818]
    """
    days = index.values.astype("datetime64[D]").astype(np.int64)
    return (days - 2) // 7  # 1970-01-03 was a Saturday


# --------------------------------------------------------------------------- maths
def runup_frame(
    price: pd.Series,
    market: pd.Series | None = None,
    *,
    price_only: pd.Series | None = None,
    window: int = 2 * TRADING_DAYS,
    threshold: float = 1.0,
) -> pd.DataFrame:
    """Trailing run-up statistics for each day.

    Parameters
    ----------
    price
        Total-return closes (``adj_close``; ascending ``DatetimeIndex``).
    market
        Market index closes (e.g. the S&P 500, a *price* index); aligned to
        ``price``'s dates with the last known value. None leaves
        ``ret_2y_net`` empty.
    price_only
        Price-only closes of the same security (``close``, split-adjusted,
        no dividends), the basis the market index is on; None: ``price``.
    window
        Look-back in trading days (504 = two years, as in GSY).
    threshold
        Raw return that sets ``flag`` (1.0 = 100%).

    Returns
    -------
    DataFrame with ``ret_2y`` (total return over ``window`` rows, fraction),
    ``ret_2y_price`` (price return over the same rows), ``ret_2y_net``
    (``ret_2y_price`` minus the market index's price return over the same
    dates: price against price, never a total return against a price index),
    ``vol_2y`` (annualised standard deviation of daily log returns over the
    window, fraction) and ``flag`` (1.0 where ``ret_2y >= threshold``, 0.0
    below, NaN before a full window).
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 trading days, got {window}")
    p = price.astype(float)
    ret = p / p.shift(window) - 1.0
    logret = np.log(p).diff()
    vol = logret.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(TRADING_DAYS)
    if price_only is not None and len(price_only):
        po = price_only.astype(float).reindex(p.index)
        ret_price = po / po.shift(window) - 1.0
    else:
        ret_price = ret
    out = pd.DataFrame({"ret_2y": ret, "ret_2y_price": ret_price, "vol_2y": vol}, index=p.index)
    out["ret_2y_net"] = net_of_market(ret_price, market, window)
    out["flag"] = np.where(ret.isna(), np.nan, (ret >= threshold).astype(float))
    return out[["ret_2y", "ret_2y_price", "ret_2y_net", "vol_2y", "flag"]]


def net_of_market(ret_price: pd.Series, market: pd.Series | None, window: int) -> pd.Series:
    """``ret_price`` minus the market's return over the same ``window`` rows of
    ``ret_price``'s dates (market closes carried forward onto them); NaN
    without a market."""
    if market is None or not len(market):
        return pd.Series(np.nan, index=ret_price.index)
    idx = ret_price.index
    m = market.astype(float).reindex(idx.union(market.index)).ffill().reindex(idx)
    return ret_price - (m / m.shift(window) - 1.0)


def basket_runup_frame(
    total: Mapping[str, pd.Series],
    price_only: Mapping[str, pd.Series],
    market: pd.Series | None = None,
    *,
    window: int = 2 * TRADING_DAYS,
    threshold: float = 1.0,
) -> pd.DataFrame:
    """:func:`runup_frame` for an equal-weighted basket, on the same members
    at both ends of each window (:func:`window_returns`).

    Parameters
    ----------
    total, price_only
        Members' total-return (``adj_close``) and price-only (``close``) closes.
    market
        Market index closes (price index).

    Returns
    -------
    DataFrame with the columns of :func:`runup_frame` plus ``n_members``
    (members in the window's return) and ``coverage`` (``n_members`` / the
    basket's declared members).
    """
    tr = window_returns(total, window)
    if tr.empty:
        return pd.DataFrame(columns=["ret_2y", "ret_2y_price", "ret_2y_net", "vol_2y", "flag",
                                     "n_members", "coverage"], dtype=float)
    pr = window_returns(price_only, window).reindex(tr.index)
    out = pd.DataFrame({"ret_2y": tr["ret"], "ret_2y_price": pr["ret"], "vol_2y": tr["vol"]},
                       index=tr.index)
    out["ret_2y_net"] = net_of_market(out["ret_2y_price"], market, window)
    out["flag"] = np.where(out["ret_2y"].isna(), np.nan,
                           (out["ret_2y"] >= threshold).astype(float))
    out["n_members"] = tr["n_members"]
    out["coverage"] = tr["n_members"] / max(len(total), 1)
    return out[["ret_2y", "ret_2y_price", "ret_2y_net", "vol_2y", "flag", "n_members",
                "coverage"]]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` positions of the runs of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def runup_spells(
    frame: pd.DataFrame, price: pd.Series, *, horizon: int = 2 * TRADING_DAYS,
    crash: float = 0.4, merge_gap: int = 63,
) -> list[IndicatorEvent]:
    """Episodes where ``flag`` is 1, with whether a GSY crash followed.

    Runs separated by fewer than ``merge_gap`` trading days below the
    threshold are one episode (the return hovers around 100% for weeks).
    ``peak`` is the highest close inside the episode. ``attrs``:
    ``max_ret_2y``; ``crashed`` is 1 if the price fell ``crash`` (40%) below
    that peak within ``horizon`` trading days after it, 0 if not, None while
    that horizon has not passed.
    """
    flag = frame["flag"].fillna(0.0).to_numpy() > 0.5
    if not flag.any():
        return []
    runs = _runs(flag)
    for (_, b), (a2, _) in itertools.pairwise(runs):
        if a2 - b < merge_gap:
            flag[b:a2] = True
    idx = frame.index
    p = price.reindex(idx).to_numpy(dtype=float)
    edges = np.flatnonzero(np.diff(np.r_[0, flag.astype(int), 0]))
    events: list[IndicatorEvent] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        ongoing = b == len(flag)
        peak_i = a + int(np.nanargmax(p[a:b]))
        after = p[peak_i : min(peak_i + horizon + 1, len(p))]
        if np.nanmin(after) / p[peak_i] - 1.0 <= -crash:
            crashed: int | None = 1
        else:
            crashed = 0 if peak_i + horizon < len(p) else None
        events.append(IndicatorEvent(
            kind="runup", start=idx[a].date(), end=None if ongoing else idx[b - 1].date(),
            peak=idx[peak_i].date(), ongoing=bool(ongoing),
            attrs={"max_ret_2y": float(frame["ret_2y"].iloc[a:b].max()), "crashed": crashed},
        ))
    return events


def gsy_base_rates(reference: pd.DataFrame) -> dict[str, float]:
    """Crash probabilities by run-up size from the reference table
    (``{"50": 20.0, "100": 53.0, "150": 80.0}``, percent); empty if not loaded."""
    if reference is None or reference.empty:
        return {}
    rows = reference[reference["entity"] == "GSY"]
    out: dict[str, float] = {}
    for metric, value in zip(rows["metric"], rows["value"], strict=True):
        if str(metric).startswith("crash_probability_after_runup_"):
            out[str(metric).rsplit("_", 1)[1]] = float(value)
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


# --------------------------------------------------------------------------- indicator
class RunupParams(Params):
    """Parameters of the run-up indicator."""

    window_days: int = Field(504, ge=2, description="look-back in trading days (504 = two years, "
                                                     "as in GSY)")
    threshold: float = Field(1.0, gt=0, description="raw return that flags a run-up, fraction "
                                                    "(1.0 = +100%)")
    crash_drawdown: float = Field(0.4, gt=0, lt=1, description="drawdown from the episode's "
                                  "peak that counts as a crash, fraction (GSY: 0.4)")
    merge_gap_days: int = Field(63, ge=0, description="flagged runs closer than this many "
                                "trading days are one episode")
    start: date | None = Field(date(1995, 1, 1), description="first stored date (None: all)")
    daily_days: int = Field(504, ge=0, description="the last this many trading days are stored "
                            "daily, earlier ones weekly (0: all daily)")
    basket_members: Literal["window_ends", "each_day"] = Field(
        "window_ends", description="a basket's two-year return over the members priced at both "
        "ends of the window (window_ends), or over whoever is priced each day (each_day)")


class RunupMeta(Meta):
    """What is stored beside each key's run-up series.

    For a basket: ``members`` (declared), ``member_spans`` (first and last
    price date of each; both None without prices) and, on the last date,
    ``n_members``/``coverage`` of the two-year return.
    """

    market_index: str
    net_of_market: str = ("price return (close) minus the market index's price return over "
                          "the same dates")
    gsy_crash_probability_pct: dict[str, float] = Field(default_factory=dict)
    gsy_crash_definition: str = "a 40% drawdown within two years of the run-up"
    last_date: date | None = None
    ret_2y: float | None = None
    ret_2y_net: float | None = None
    flag: bool | None = None
    members: list[str] = Field(default_factory=list)
    member_spans: dict[str, MemberSpan] = Field(default_factory=dict)
    n_members: int | None = None
    coverage: float | None = None


def compute(ctx: ComputeContext, key: str, params: RunupParams) -> IndicatorResult[RunupMeta]:
    market_symbol = ctx.universe.market_index
    basket = key in ctx.universe.baskets
    fields: dict[str, Any] = {}
    if basket:
        members = list(ctx.universe.baskets[key])
        total = {m: close_series(ctx.source, m) for m in members}
        price = basket_index(total).rename(key)
        spans = member_spans(total)
        fields.update(members=members, member_spans=spans)
    else:
        price = close_series(ctx.source, key)
    if price.empty:
        return IndicatorResult(pd.DataFrame(), RunupMeta(
            market_index=market_symbol, **fields,
            missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    # the market index is a price index: it is compared with price-only returns
    market = None if key == market_symbol else close_series(ctx.source, market_symbol, "close")
    if basket and params.basket_members == "window_ends":
        frame = basket_runup_frame(
            total, {m: close_series(ctx.source, m, "close") for m in members}, market,
            window=params.window_days, threshold=params.threshold)
    elif basket:
        price_only = basket_index({m: close_series(ctx.source, m, "close") for m in members})
        frame = runup_frame(price, market, price_only=price_only, window=params.window_days,
                            threshold=params.threshold)
        frame["n_members"] = basket_frame(total)["n_members"].reindex(frame.index)
        frame["coverage"] = frame["n_members"] / len(members)
    else:
        frame = runup_frame(price, market, price_only=close_series(ctx.source, key, "close"),
                            window=params.window_days, threshold=params.threshold)
    events = runup_spells(frame, price, horizon=params.window_days,
                          crash=params.crash_drawdown, merge_gap=params.merge_gap_days)
    out = thin(trim(frame, params.start).dropna(how="all"), params.daily_days)
    notes = []
    if market is None or market.empty:
        notes.append("ret_2y_net not computed: this is the market index itself"
                     if key == market_symbol
                     else f"no prices for the market index {market_symbol}")
    valid = frame.dropna(subset=["ret_2y"])
    if basket:
        shrink = shrink_note(spans, price.index[-1].date())
        if shrink:
            notes.append(shrink)
    if not valid.empty:
        row = valid.iloc[-1]
        net = float(row["ret_2y_net"])
        fields.update({"last_date": valid.index[-1].date(), "ret_2y": float(row["ret_2y"]),
                       "ret_2y_net": net if np.isfinite(net) else None,
                       "flag": bool(row["flag"] > 0.5)})
        if basket:
            fields.update(n_members=int(row["n_members"]), coverage=float(row["coverage"]))
    meta = RunupMeta(market_index=market_symbol,
                     gsy_crash_probability_pct=gsy_base_rates(ctx.source.reference()),
                     note="; ".join(notes) or None, **fields)
    return IndicatorResult(out, meta, tuple(events))


INDICATOR = Indicator(
    name="runup",
    title="Run-up (Greenwood-Shleifer-You)",
    description=(
        "Trailing two-year return, raw and net of the market (price return against the S&P 500 "
        "price index), with volatility; "
        "flagged at 100%, where Greenwood, Shleifer & You (2019, 'Bubbles for Fama') find a "
        "53% chance of a 40% crash within two years (20% after 50%, 80% after 150%). "
        "Computed per symbol and for the equal-weighted AI and dot-com baskets, each basket "
        "over the members present at both ends of the window, with its coverage."
    ),
    columns={
        "ret_2y": Column("Two-year return", "fraction, 1.0 = +100%",
                         "total return (dividends reinvested) over the last 504 trading days; "
                         "a basket's on the members present at both ends of the window"),
        "ret_2y_price": Column("Two-year price return", "fraction, 1.0 = +100%",
                               "price-only return (no dividends) over the same days"),
        "ret_2y_net": Column("Two-year return net of the market", "fraction, +0.10 = 10 points",
                             "two-year price return minus the market index's price return over "
                             "the same dates (price against price)"),
        "vol_2y": Column("Two-year volatility", "fraction a year",
                         "annualised volatility of daily log returns over the window"),
        "flag": Column("Run-up flag", "1 = yes, 0 = no",
                       "1 when the two-year return is at least the threshold (GSY run-up)"),
        "n_members": Column("Basket members in the return", "count",
                            "(baskets) members in the two-year return: priced at both ends of "
                            "the window (or that day, with basket_members=each_day)"),
        "coverage": Column("Basket coverage", "fraction 0-1",
                           "(baskets) members in the return / the basket's declared members"),
    },
    params=RunupParams,
    meta=RunupMeta,
    keys=symbol_and_basket_keys,
    compute=compute,
    page="analog",
    sampling="daily for the last two years, weekly (last trading day) before",
    incremental=True,
)
