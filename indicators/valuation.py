"""Valuation: trailing P/E and P/S per day, point in time, with percentiles,
Cisco's 2000 peak beside them, and earnings sensitivity.

For each trading day the market value is the close (split-adjusted, not
dividend-adjusted) times the shares outstanding last reported on or before
that day; earnings and sales are the trailing four fiscal quarters whose
figures had all been *filed* by that day, each taken as first filed (later
restatements are not back-propagated, so nothing is known before it was
public). Share counts are put on today's split basis by detecting splits as
jumps of a near-round ratio (2, 3, 4, 10, 20...) between consecutive
reported counts, matching the split-adjusted price history.

``pe_pctile``/``ps_pctile`` rank each day's multiple among all earlier days
of the same series (expanding window, so also point in time).
``pe_vs_csco_peak`` divides by Cisco's P/E at its 2000 peak from the
reference table. A P/E of 36 on earnings that then fall 75% is a P/E of 144:
``pe_eps_m25/m50/m75`` show the multiple if trailing earnings fell by 25%,
50% or 75% at today's price. History before the last ``daily_days`` trading
days is stored weekly (:func:`indicators.runup.thin`); percentiles are
computed on the daily series first.
"""

from __future__ import annotations

import bisect
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import Field

from indicators.capex import quarters
from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import thin

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

SENSITIVITY = (25, 50, 75)


def split_factors(values: np.ndarray, min_ratio: float = 1.4,
                  tolerance: float = 0.06) -> np.ndarray:
    """Cumulative factor that puts each share count on the basis of the last one.

    A jump between consecutive counts whose ratio is within ``tolerance`` of a
    split ratio (halves below 5, integers above) is a split; so is its
    inverse (reverse split). Returns an array of multipliers (1.0 for the most
    recent counts).
    """
    v = np.asarray(values, dtype=float)
    step = np.ones(len(v))
    for i in range(1, len(v)):
        r = v[i] / v[i - 1]
        for ratio, sign in ((r, 1.0), (1.0 / r, -1.0)):
            if ratio >= min_ratio:
                nearest = round(ratio * 2) / 2 if ratio < 5 else float(round(ratio))
                if abs(ratio / nearest - 1.0) <= tolerance:
                    step[i] = nearest ** sign
    # factor for observation i = product of the steps after it
    return np.r_[np.cumprod(step[::-1])[::-1][1:], 1.0]


def known_asof(periods: pd.DataFrame, dates: pd.DatetimeIndex) -> pd.Series:
    """The value of the latest period whose figure was filed on or before each date.

    ``periods`` has ``period_end``, ``filed`` and ``value``. A figure filed later
    for an *earlier* period never replaces a more recent one already known.
    """
    if periods.empty:
        return pd.Series(np.nan, index=dates)
    p = periods.dropna(subset=["value"]).sort_values(["filed", "period_end"])
    best_end = p["period_end"].cummax()
    p = p[p["period_end"] >= best_end]  # rows that advance (or tie) the known period
    p = p.drop_duplicates("filed", keep="last")
    left = pd.DataFrame({"d": pd.DatetimeIndex(dates).astype("datetime64[ns]")})
    right = pd.DataFrame({"filed": pd.DatetimeIndex(p["filed"]).astype("datetime64[ns]"),
                          "value": p["value"].to_numpy(dtype=float)})
    m = pd.merge_asof(left, right, left_on="d", right_on="filed", direction="backward")
    return pd.Series(m["value"].to_numpy(), index=dates)


def ttm_known(q: pd.DataFrame) -> pd.DataFrame:
    """TTM rows of a first-filed quarterly frame: ``period_end``, ``value``
    (sum of four contiguous quarters) and ``filed`` (the latest of the four)."""
    if len(q) < 4:
        return pd.DataFrame(columns=["period_end", "value", "filed"])
    starts = pd.to_datetime(q["period_start"]).to_numpy()
    ends = pd.to_datetime(q["period_end"]).to_numpy()
    gap = np.r_[np.nan, (starts[1:] - ends[:-1]) / np.timedelta64(1, "D")]
    contiguous = pd.Series((gap > 0) & (gap <= 7)).rolling(3).sum().to_numpy() == 3
    vals = pd.Series(q["value"].to_numpy(dtype=float)).rolling(4).sum().to_numpy()
    filed = pd.Series(pd.DatetimeIndex(q["filed"]).astype("datetime64[ns]").asi8
                      ).rolling(4).max().to_numpy()
    ok = contiguous & np.isfinite(vals)
    return pd.DataFrame({"period_end": ends[ok], "value": vals[ok],
                         "filed": pd.to_datetime(filed[ok].astype(np.int64))})


def expanding_percentile(values: pd.Series) -> pd.Series:
    """Share of the valid values up to and including each day that are <= that
    day's value (NaN where the value is NaN)."""
    out = np.full(len(values), np.nan)
    seen: list[float] = []
    for i, v in enumerate(values.to_numpy(dtype=float)):
        if np.isfinite(v):
            bisect.insort(seen, v)
            out[i] = bisect.bisect_right(seen, v) / len(seen)
    return pd.Series(out, index=values.index)


def valuation_frame(close: pd.Series, facts: pd.DataFrame, *, csco_pe: float | None = None,
                    csco_ps: float | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily point-in-time valuation of one company.

    Parameters
    ----------
    close
        Split-adjusted closes, USD/share.
    facts
        Every vintage of the company's EDGAR facts.
    csco_pe, csco_ps
        Cisco's P/E and P/S at the 2000 peak (reference table), or None.

    Returns
    -------
    The frame (``market_cap`` USD m, ``pe_ttm``, ``ps_ttm``, percentiles,
    ratios to Cisco's peak, ``pe_eps_m25/50/75``) and notes for ``meta``.
    """
    dates = pd.DatetimeIndex(close.index)
    ni = ttm_known(quarters(facts, "net_income", as_first_filed=True))
    rev = ttm_known(quarters(facts, "revenue", as_first_filed=True))
    sh = quarters(facts, "shares_outstanding", as_first_filed=True)
    notes: dict[str, Any] = {}
    if sh.empty or (ni.empty and rev.empty):
        return pd.DataFrame(), {"missing": "no EDGAR shares outstanding, net income or revenue"}
    sh = sh.sort_values("period_end")
    factors = split_factors(sh["value"].to_numpy())
    splits = [(pd.Timestamp(e).date().isoformat(), float(f0 / f1)) for e, f0, f1 in
              zip(sh["period_end"].iloc[1:], factors[:-1], factors[1:], strict=True)
              if abs(f0 / f1 - 1.0) > 1e-9]
    notes["splits_detected"] = splits
    sh = sh.assign(value=sh["value"].to_numpy(dtype=float) * factors)
    shares = known_asof(sh, dates)
    mcap = close.to_numpy(dtype=float) * shares.to_numpy() / 1e6
    out = pd.DataFrame({"market_cap": mcap}, index=dates)
    ni_k = known_asof(ni.assign(value=ni["value"] / 1e6), dates) if not ni.empty else np.nan
    rev_k = known_asof(rev.assign(value=rev["value"] / 1e6), dates) if not rev.empty else np.nan
    out["pe_ttm"] = out["market_cap"] / pd.Series(ni_k, index=dates).where(lambda s: s > 0)
    out["ps_ttm"] = out["market_cap"] / pd.Series(rev_k, index=dates).where(lambda s: s > 0)
    out["pe_pctile"] = expanding_percentile(out["pe_ttm"])
    out["ps_pctile"] = expanding_percentile(out["ps_ttm"])
    out["pe_vs_csco_peak"] = out["pe_ttm"] / csco_pe if csco_pe else np.nan
    out["ps_vs_csco_peak"] = out["ps_ttm"] / csco_ps if csco_ps else np.nan
    for cut in SENSITIVITY:
        out[f"pe_eps_m{cut}"] = out["pe_ttm"] / (1.0 - cut / 100.0)
    if (pd.Series(ni_k) <= 0).any():
        notes["negative_earnings"] = "P/E is left empty on days with trailing losses"
    return out.dropna(subset=["pe_ttm", "ps_ttm"], how="all"), notes


def cisco_peak_multiples(reference: pd.DataFrame) -> tuple[float | None, float | None]:
    """Cisco's P/E and P/S at the 2000 peak from the reference table."""
    if reference is None or reference.empty:
        return None, None
    vals = dict(zip(reference["key"], reference["value"], strict=True))
    pe, ps = vals.get("csco_pe_peak_fy2000"), vals.get("csco_ps_peak_fy2000")
    return (float(pe) if pe is not None else None, float(ps) if ps is not None else None)


class ValuationParams(Params):
    """Parameters of the valuation indicator."""

    daily_days: int = Field(504, ge=0, description="the last this many trading days are stored "
                            "daily, earlier ones weekly (0: all daily)")


class ValuationMeta(Meta):
    """What is stored beside each company's valuation series."""

    point_in_time: str = "facts filed on or before each day, as first filed"
    csco_peak_pe: float | None = None
    csco_peak_ps: float | None = None
    splits_detected: list[tuple[date, float]] = Field(default_factory=list)
    negative_earnings: str | None = None
    last_date: date | None = None
    pe_ttm: float | None = None
    ps_ttm: float | None = None
    pe_pctile: float | None = None
    ps_pctile: float | None = None


def compute(ctx: ComputeContext, key: str,
            params: ValuationParams) -> IndicatorResult[ValuationMeta]:
    prices = ctx.source.prices(key)
    facts = ctx.source.facts(key)
    if prices is None or prices.empty:
        return IndicatorResult(pd.DataFrame(), ValuationMeta(
            missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    if facts is None or facts.empty:
        return IndicatorResult(pd.DataFrame(), ValuationMeta(
            missing=f"no SEC EDGAR fundamentals for {key}: load its companyfacts with "
                    "`bubblewatch ingest` (or a CIK##########.json file with --from-dir)"))
    close = pd.to_numeric(prices["close"], errors="coerce")
    close.index = pd.DatetimeIndex(prices.index)
    close = close[close > 0].dropna()
    csco_pe, csco_ps = cisco_peak_multiples(ctx.source.reference())
    frame, notes = valuation_frame(close, facts, csco_pe=csco_pe, csco_ps=csco_ps)
    frame = thin(frame, params.daily_days)
    fields: dict[str, Any] = {"csco_peak_pe": csco_pe, "csco_peak_ps": csco_ps, **notes}
    if csco_pe is None:
        fields["note"] = "Cisco peak multiples not in the reference table: run `bubblewatch init`"
    if not frame.empty:
        last = frame.iloc[-1]
        fields.update({"last_date": frame.index[-1].date(),
                       **{c: (None if pd.isna(last[c]) else float(last[c]))
                          for c in ("pe_ttm", "ps_ttm", "pe_pctile", "ps_pctile")}})
    return IndicatorResult(frame, ValuationMeta(**fields))


def valuation_keys(universe: Universe) -> list[str]:
    return [i.symbol for i in universe.instruments if not i.is_index]


INDICATOR = Indicator(
    name="valuation",
    title="Valuation (point-in-time P/E and P/S)",
    description=(
        "Trailing P/E and P/S per day from closes and EDGAR fundamentals known on that day "
        "(first-filed figures, no look-ahead), percentile against the company's own history and "
        "ratio to Cisco's March 2000 multiples, and the P/E if earnings fell 25/50/75%."
    ),
    columns={
        "market_cap": Column("Market value", "USD m",
                             "close x split-adjusted shares outstanding known that day"),
        "pe_ttm": Column("Trailing P/E", "times earnings",
                         "market value / net income of the trailing four quarters known that "
                         "day"),
        "ps_ttm": Column("Trailing P/S", "times sales",
                         "market value / revenue of the trailing four quarters known that day"),
        "pe_pctile": Column("P/E percentile of own history", "fraction 0-1",
                            "share of earlier days (today included) with a P/E at or below "
                            "today's"),
        "ps_pctile": Column("P/S percentile of own history", "fraction 0-1",
                            "share of earlier days (today included) with a P/S at or below "
                            "today's"),
        "pe_vs_csco_peak": Column("P/E against Cisco's 2000 peak", "ratio",
                                  "trailing P/E / Cisco's P/E at its 2000 peak"),
        "ps_vs_csco_peak": Column("P/S against Cisco's 2000 peak", "ratio",
                                  "trailing P/S / Cisco's P/S at its 2000 peak"),
        "pe_eps_m25": Column("P/E if earnings fell 25%", "times earnings",
                             "trailing P/E with trailing earnings 25% lower"),
        "pe_eps_m50": Column("P/E if earnings fell 50%", "times earnings",
                             "trailing P/E with trailing earnings 50% lower"),
        "pe_eps_m75": Column("P/E if earnings fell 75%", "times earnings",
                             "trailing P/E with trailing earnings 75% lower"),
    },
    params=ValuationParams,
    meta=ValuationMeta,
    keys=valuation_keys,
    compute=compute,
    page="valuation",
    sampling="daily for the last two years, weekly (last trading day) before",
    incremental=True,
)
