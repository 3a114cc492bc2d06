"""Drawdown duration: how long a price has been below its previous peak.

A bust is measured in depth and in time. For each symbol and basket this
indicator counts, per day, the trading days since the last all-time closing
high (0 on a new high) and the longest such spell so far, and date-stamps
every underwater spell longer than ``min_days``: its peak, its trough, the
depth at the trough and the day the old peak was regained (None while the
price is still below it). The Nasdaq Composite closed at 5,048.62 on
2000-03-10 and first closed above it again on 2015-04-23, at 5,056.06
(FACTS.md §2): a spell of fifteen years that the tests check on the shared
price files.

Closes are the adjusted closes (``adj_close``), as for the other price
indicators, so dividends shorten a spell slightly against the price index;
indices have no dividends.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import key_series, symbol_and_basket_keys, thin, trim


def underwater_days(price: pd.Series) -> pd.DataFrame:
    """Per day: trading days since the last all-time closing high and the
    longest such spell up to that day.

    Parameters
    ----------
    price
        Closes, ascending ``DatetimeIndex``.

    Returns
    -------
    DataFrame with ``underwater_days`` (0 on a new high) and
    ``max_underwater_days`` (its running maximum).

    Examples
    --------
    >>> s = pd.Series([1.0, 2.0, 1.5, 1.8, 2.5, 2.0],
    ...               index=pd.bdate_range("2024-01-01", periods=6))
    >>> underwater_days(s)["underwater_days"].tolist()
    [0, 0, 1, 2, 0, 1]
    """
    p = price.to_numpy(dtype=float)
    at_high = p >= np.maximum.accumulate(p)
    last_high = np.maximum.accumulate(np.where(at_high, np.arange(len(p)), 0))
    days = np.arange(len(p)) - last_high
    return pd.DataFrame({"underwater_days": days, "max_underwater_days":
                         np.maximum.accumulate(days) if len(days) else days}, index=price.index)


def underwater_spells(price: pd.Series, min_days: int) -> list[IndicatorEvent]:
    """Spells below the previous all-time high lasting at least ``min_days``
    trading days: ``start`` is the first day below the peak, ``peak`` the peak
    day, ``end`` the last day below it (None while ongoing); ``attrs`` hold the
    trough date, the depth at the trough (fraction) and the length in days."""
    p = price.to_numpy(dtype=float)
    idx = price.index
    under = p < np.maximum.accumulate(p)
    edges = np.flatnonzero(np.diff(np.r_[0, under.astype(int), 0]))
    out: list[IndicatorEvent] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a < min_days:
            continue
        peak_i = a - 1  # the spell starts the day after the high
        trough_i = a + int(np.argmin(p[a:b]))
        ongoing = b == len(p)
        out.append(IndicatorEvent(
            kind="underwater", start=idx[a].date(), end=None if ongoing else idx[b - 1].date(),
            peak=idx[peak_i].date(), ongoing=bool(ongoing),
            attrs={"trough": idx[trough_i].date().isoformat(),
                   "depth": float(p[trough_i] / p[peak_i] - 1.0),
                   "days": int(b - a),
                   "recovered": None if ongoing else idx[b].date().isoformat()},
        ))
    return out


class DrawdownDurationParams(Params):
    """Parameters of the drawdown-duration indicator."""

    min_days: int = Field(63, ge=1, description="shortest underwater spell reported, trading "
                          "days (63 = three months)")
    start: date | None = Field(date(1995, 1, 1), description="first stored date (None: all); "
                               "spells are measured on the whole history")
    daily_days: int = Field(504, ge=0, description="the last this many trading days are stored "
                            "daily, earlier ones weekly (0: all daily)")


class DrawdownDurationMeta(Meta):
    """What is stored beside each key's series: today's spell."""

    last_date: date | None = None
    peak_date: date | None = None
    underwater_days: int | None = None
    longest_spell_days: int | None = None


def compute(ctx: ComputeContext, key: str,
            params: DrawdownDurationParams) -> IndicatorResult[DrawdownDurationMeta]:
    price = key_series(ctx.source, ctx.universe, key)
    if price.empty:
        return IndicatorResult(pd.DataFrame(), DrawdownDurationMeta(
            missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    frame = underwater_days(price).astype(float)
    days = int(frame["underwater_days"].iloc[-1])
    fields: dict[str, Any] = {
        "last_date": price.index[-1].date(), "underwater_days": days,
        "peak_date": price.index[len(price) - 1 - days].date(),
        "longest_spell_days": int(frame["max_underwater_days"].iloc[-1])}
    out = thin(trim(frame, params.start), params.daily_days)
    return IndicatorResult(out, DrawdownDurationMeta(**fields),
                           tuple(underwater_spells(price, params.min_days)))


INDICATOR = Indicator(
    name="drawdown_duration",
    title="Drawdown duration",
    description=(
        "Trading days since the last all-time closing high and the longest such spell, with "
        "every underwater spell of three months or more dated from peak to recovery (the "
        "Nasdaq took from 2000-03-10 to 2015-04-23 to regain its dot-com peak)."
    ),
    columns={
        "underwater_days": Column("Days below the peak", "trading days",
                                  "trading days since the last all-time closing high (0 on a "
                                  "new high)"),
        "max_underwater_days": Column("Longest spell below a peak", "trading days",
                                      "longest run of days below a previous high up to this "
                                      "day"),
    },
    params=DrawdownDurationParams,
    meta=DrawdownDurationMeta,
    keys=symbol_and_basket_keys,
    compute=compute,
    page="",
    sampling="daily for the last two years, weekly (last trading day) before",
)
