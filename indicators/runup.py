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

This module also holds the price helpers the other cycle indicators share:
:func:`close_series` (dividend- and split-adjusted closes of one symbol) and
:func:`basket_series` (an equal-weighted, daily-rebalanced basket index).

References
----------
Greenwood, R., Shleifer, A. and You, Y. (2019), "Bubbles for Fama",
Journal of Financial Economics 131(1), 20-43; NBER Working Paper 23191 (2017).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

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
def close_series(source: DataSource, symbol: str) -> pd.Series:
    """Adjusted closes of ``symbol`` (``adj_close``, falling back to ``close``),
    positive values only, indexed by date; empty if there are no prices."""
    df = source.prices(symbol)
    if df is None or df.empty:
        return pd.Series(dtype=float, name=symbol)
    col = "adj_close" if "adj_close" in df.columns else "close"
    s = pd.to_numeric(df[col], errors="coerce")
    s.index = pd.DatetimeIndex(df.index)
    s = s[s > 0].dropna().sort_index()
    return s[~s.index.duplicated(keep="last")].rename(symbol)


def basket_index(closes: Mapping[str, pd.Series]) -> pd.Series:
    """Equal-weighted, daily-rebalanced index of ``closes`` (1.0 on the first day).

    Each day's return is the mean of the members' simple returns that day;
    a member joins the day after its first price, so listings (CoreWeave in
    2025) and gaps never make the index jump.
    """
    series = [s for s in closes.values() if len(s) > 1]
    if not series:
        return pd.Series(dtype=float)
    prices = pd.concat(series, axis=1, sort=True)
    rets = prices.pct_change(fill_method=None)
    mean = rets.mean(axis=1, skipna=True).fillna(0.0)
    return (1.0 + mean).cumprod().rename("basket")


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
    every row.

    Long daily histories of slow-moving statistics (two-year returns,
    drawdowns) cost storage and time without adding information; charts and
    alerts use the recent daily rows.
    """
    if daily_days <= 0 or len(frame) <= daily_days:
        return frame
    old, recent = frame.iloc[:-daily_days], frame.iloc[-daily_days:]
    weeks = pd.DatetimeIndex(old.index).to_period("W-FRI")
    last_of_week = ~pd.Index(weeks).duplicated(keep="last")
    return pd.concat([old[last_of_week], recent])


# --------------------------------------------------------------------------- maths
def runup_frame(
    price: pd.Series,
    market: pd.Series | None = None,
    *,
    window: int = 2 * TRADING_DAYS,
    threshold: float = 1.0,
) -> pd.DataFrame:
    """Trailing run-up statistics for each day.

    Parameters
    ----------
    price
        Adjusted closes (ascending ``DatetimeIndex``).
    market
        Market index closes (e.g. the S&P 500); aligned to ``price``'s dates
        with the last known value. None leaves ``ret_2y_net`` empty.
    window
        Look-back in trading days (504 = two years, as in GSY).
    threshold
        Raw return that sets ``flag`` (1.0 = 100%).

    Returns
    -------
    DataFrame with ``ret_2y`` (simple return over ``window`` rows, fraction),
    ``ret_2y_net`` (``ret_2y`` minus the market's return over the same
    dates), ``vol_2y`` (annualised standard deviation of daily log returns over
    the window, fraction) and ``flag`` (1.0 where ``ret_2y >= threshold``,
    0.0 below, NaN before a full window).
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 trading days, got {window}")
    p = price.astype(float)
    ret = p / p.shift(window) - 1.0
    logret = np.log(p).diff()
    vol = logret.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(TRADING_DAYS)
    out = pd.DataFrame({"ret_2y": ret, "vol_2y": vol}, index=p.index)
    if market is not None and len(market):
        m = market.astype(float).reindex(p.index.union(market.index)).ffill().reindex(p.index)
        out["ret_2y_net"] = ret - (m / m.shift(window) - 1.0)
    else:
        out["ret_2y_net"] = np.nan
    out["flag"] = np.where(ret.isna(), np.nan, (ret >= threshold).astype(float))
    return out[["ret_2y", "ret_2y_net", "vol_2y", "flag"]]


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


class RunupMeta(Meta):
    """What is stored beside each key's run-up series."""

    market_index: str
    gsy_crash_probability_pct: dict[str, float] = Field(default_factory=dict)
    gsy_crash_definition: str = "a 40% drawdown within two years of the run-up"
    last_date: date | None = None
    ret_2y: float | None = None
    ret_2y_net: float | None = None
    flag: bool | None = None


def compute(ctx: ComputeContext, key: str, params: RunupParams) -> IndicatorResult[RunupMeta]:
    market_symbol = ctx.universe.market_index
    price = key_series(ctx.source, ctx.universe, key)
    if price.empty:
        return IndicatorResult(pd.DataFrame(), RunupMeta(
            market_index=market_symbol,
            missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    market = None if key == market_symbol else close_series(ctx.source, market_symbol)
    frame = runup_frame(price, market, window=params.window_days, threshold=params.threshold)
    events = runup_spells(frame, price, horizon=params.window_days,
                          crash=params.crash_drawdown, merge_gap=params.merge_gap_days)
    out = thin(trim(frame, params.start).dropna(how="all"), params.daily_days)
    note = None
    if market is None or market.empty:
        note = ("ret_2y_net not computed: this is the market index itself"
                if key == market_symbol
                else f"no prices for the market index {market_symbol}")
    last: dict[str, Any] = {}
    valid = frame.dropna(subset=["ret_2y"])
    if not valid.empty:
        row = valid.iloc[-1]
        net = float(row["ret_2y_net"])
        last = {"last_date": valid.index[-1].date(), "ret_2y": float(row["ret_2y"]),
                "ret_2y_net": net if np.isfinite(net) else None, "flag": bool(row["flag"] > 0.5)}
    meta = RunupMeta(market_index=market_symbol,
                     gsy_crash_probability_pct=gsy_base_rates(ctx.source.reference()),
                     note=note, **last)
    return IndicatorResult(out, meta, tuple(events))


INDICATOR = Indicator(
    name="runup",
    title="Run-up (Greenwood-Shleifer-You)",
    description=(
        "Trailing two-year return, raw and net of the market (S&P 500), with volatility; "
        "flagged at 100%, where Greenwood, Shleifer & You (2019, 'Bubbles for Fama') find a "
        "53% chance of a 40% crash within two years (20% after 50%, 80% after 150%). "
        "Computed per symbol and for the equal-weighted AI and dot-com baskets."
    ),
    columns={
        "ret_2y": Column("Two-year return", "fraction, 1.0 = +100%",
                         "simple return over the last 504 trading days"),
        "ret_2y_net": Column("Two-year return net of the market", "fraction",
                             "two-year return minus the market index's return over the same "
                             "dates"),
        "vol_2y": Column("Two-year volatility", "fraction a year",
                         "annualised volatility of daily log returns over the window"),
        "flag": Column("Run-up flag", "1 = yes, 0 = no",
                       "1 when the two-year return is at least the threshold (GSY run-up)"),
    },
    params=RunupParams,
    meta=RunupMeta,
    keys=symbol_and_basket_keys,
    compute=compute,
    page="analog",
    sampling="daily for the last two years, weekly (last trading day) before",
    incremental=True,
)
