"""Valuation: trailing P/E and P/S per day, point in time, with percentiles,
Cisco's 2000 peak beside them, and earnings sensitivity.

For each trading day the market value is the close (split-adjusted, not
dividend-adjusted) times the shares outstanding last reported on or before
that day; earnings and sales are the trailing four fiscal quarters known that
day from the point-in-time layer :mod:`ingest.pit`: only filings filed on or
before the day, each figure in its latest vintage as known then
(restatements count from the day they are filed), concepts in priority
order, re-tagged comparatives never re-dating a quarter. The value on any day
therefore equals a recomputation on the facts filed by that day.

Share counts are taken as first reported (a later filing restates old counts
onto a post-split basis) and put on the price series' split basis by
detecting splits as jumps of a near-round ratio (2, 3, 4, 10, 20...) between
consecutive reported counts (:func:`share_splits`). The split calendar describes the *price*
series (split-adjusted as of its last day), so a recomputation as of an
earlier day takes the same calendar (``splits=``).

``pe_pctile``/``ps_pctile`` rank each day's multiple among all earlier days
of the same series (expanding window, so also point in time).
``pe_vs_csco_peak`` divides by Cisco's P/E at its 2000-03-27 peak computed
from the figures public on that day (:func:`cisco_peak_multiples`). A P/E of
36 on earnings that then fall 75% is a P/E of 144: ``pe_eps_m25/m50/m75``
show the multiple if trailing earnings fell by 25%, 50% or 75% at today's
price. History before the last ``daily_days`` trading days is stored weekly
(:func:`indicators.runup.thin`); percentiles are computed on the daily series
first.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import thin
from ingest.pit import pit_balance, pit_history, pit_quarters, pit_ttm

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

SENSITIVITY = (25, 50, 75)
#: Latest filing deadline (days after the fiscal year end) of a 10-K in 2000.
ANNUAL_REPORT_DAYS = 90


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


def share_splits(facts: pd.DataFrame, company: str | None = None) -> pd.DataFrame:
    """Splits seen in the company's reported share counts.

    Returns one row per split: ``last_before`` (period end of the last count
    on the old basis), ``first_after`` (period end of the first count on the
    new basis) and ``ratio`` (new shares per old share; below 1 for a reverse
    split), from the counts as first reported. Later filings restate old
    balance-sheet counts onto the post-split basis, so only first-reported
    counts sit on the basis of their own dates.
    """
    counts = pit_quarters(facts, "shares_outstanding", vintage="first", company=company)
    cols = ["last_before", "first_after", "ratio"]
    if len(counts) < 2:
        return pd.DataFrame(columns=cols)
    f = split_factors(counts["value"].to_numpy())
    ratio = f[:-1] / f[1:]
    hit = np.abs(ratio - 1.0) > 1e-9
    ends = pd.DatetimeIndex(counts["period_end"])
    return pd.DataFrame({"last_before": ends[:-1][hit], "first_after": ends[1:][hit],
                         "ratio": ratio[hit]})


def split_factor(period_end: pd.Series, splits: pd.DataFrame) -> np.ndarray:
    """Multiplier putting a count dated ``period_end`` on the basis after every
    split of ``splits`` (the product of the ratios of splits after it)."""
    ends = pd.to_datetime(period_end).to_numpy(dtype="datetime64[ns]")
    out = np.ones(len(ends))
    for last_before, ratio in zip(pd.to_datetime(splits["last_before"]), splits["ratio"],
                                  strict=True):
        out = np.where(ends <= np.datetime64(last_before, "ns"), out * float(ratio), out)
    return np.where(np.isnat(ends), np.nan, out)


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


def _provenance(known: pd.DataFrame) -> dict[str, Any]:
    """The last day's figure of a point-in-time frame, for ``meta``."""
    last = known.dropna(subset=["value"])
    if last.empty:
        return {}
    r = last.iloc[-1]

    def day(x: Any) -> str | None:
        return None if pd.isna(x) else pd.Timestamp(x).date().isoformat()

    return {"value": float(r["value"]), "period_start": day(r["period_start"]),
            "period_end": day(r["period_end"]), "filed": day(r["filed"]),
            "known_since": day(r["known_since"]), "concepts": r["concepts"],
            "stale": bool(r["last_quarter_end"] > r["period_end"])}


def valuation_frame(close: pd.Series, facts: pd.DataFrame, *, csco_pe: float | None = None,
                    csco_ps: float | None = None, splits: pd.DataFrame | None = None,
                    company: str | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Daily point-in-time valuation of one company.

    Parameters
    ----------
    close
        Split-adjusted closes, USD/share.
    facts
        Every vintage of the company's EDGAR facts (or those filed by a date).
    csco_pe, csco_ps
        Cisco's P/E and P/S at the 2000 peak, or None.
    splits
        The price series' split calendar (:func:`share_splits`); None detects
        it from ``facts``. Pass the calendar of the full history when ``facts``
        is cut at an earlier date but ``close`` keeps today's split basis.
    company
        Name used in data-quality warnings (default: the frame's symbol or CIK).

    Returns
    -------
    The frame (``market_cap`` USD m, ``pe_ttm``, ``ps_ttm``, percentiles,
    ratios to Cisco's peak, ``pe_eps_m25/50/75``) and notes for ``meta``:
    splits, and for the last day the figures used (period, filing date,
    first-known date, concepts) and any data-quality findings.
    """
    dates = pd.DatetimeIndex(close.index)
    if facts is None or facts.empty:
        return pd.DataFrame(), {"missing": "no EDGAR shares outstanding, net income or revenue"}
    ni = pit_ttm(facts, "net_income", dates, company=company)
    rev = pit_ttm(facts, "revenue", dates, company=company)
    sh = pit_balance(facts, "shares_outstanding", dates, vintage="first", company=company)
    notes: dict[str, Any] = {}
    if sh["value"].isna().all() or (ni["value"].isna().all() and rev["value"].isna().all()):
        return pd.DataFrame(), {"missing": "no EDGAR shares outstanding, net income or revenue"}
    if splits is None:
        splits = share_splits(facts, company)
    notes["splits_detected"] = [(pd.Timestamp(e).date().isoformat(), float(r)) for e, r in
                                zip(splits["first_after"], splits["ratio"], strict=True)]
    shares = sh["value"].to_numpy(dtype=float) * split_factor(sh["period_end"], splits)
    mcap = close.to_numpy(dtype=float) * shares / 1e6
    out = pd.DataFrame({"market_cap": mcap}, index=dates)
    ni_m = pd.Series(ni["value"].to_numpy(dtype=float) / 1e6, index=dates)
    rev_m = pd.Series(rev["value"].to_numpy(dtype=float) / 1e6, index=dates)
    out["pe_ttm"] = out["market_cap"] / ni_m.where(ni_m > 0)
    out["ps_ttm"] = out["market_cap"] / rev_m.where(rev_m > 0)
    out["pe_pctile"] = expanding_percentile(out["pe_ttm"])
    out["ps_pctile"] = expanding_percentile(out["ps_ttm"])
    out["pe_vs_csco_peak"] = out["pe_ttm"] / csco_pe if csco_pe else np.nan
    out["ps_vs_csco_peak"] = out["ps_ttm"] / csco_ps if csco_ps else np.nan
    for cut in SENSITIVITY:
        out[f"pe_eps_m{cut}"] = out["pe_ttm"] / (1.0 - cut / 100.0)
    if (ni_m <= 0).any():
        notes["negative_earnings"] = "P/E is left empty on days with trailing losses"
    notes["fundamentals"] = {"net_income_ttm": _provenance(ni), "revenue_ttm": _provenance(rev),
                             "shares_outstanding": _provenance(sh)}
    issues = [*pit_history(facts, "net_income", company=company).issues,
              *pit_history(facts, "revenue", company=company).issues,
              *pit_history(facts, "shares_outstanding", vintage="first", company=company).issues]
    if issues:
        notes["data_quality"] = issues
    return out.dropna(subset=["pe_ttm", "ps_ttm"], how="all"), notes


@dataclass(frozen=True, slots=True)
class CiscoPeak:
    """Cisco's multiples at its 2000-03-27 record close from figures public that day.

    ``pe``/``ps`` are None when an input row is missing; ``basis`` says which
    figures were used (or what is missing).
    """

    pe: float | None
    ps: float | None
    basis: str


def _public_year(reference: pd.DataFrame, metric: str, day: pd.Timestamp) -> pd.Series | None:
    """The latest Cisco fiscal year of ``metric`` whose 10-K was due by ``day``."""
    rows = reference[(reference["entity"] == "CSCO") & (reference["metric"] == metric)]
    if rows.empty:
        return None
    start, end = pd.to_datetime(rows["period_start"]), pd.to_datetime(rows["period_end"])
    years = rows[((end - start).dt.days + 1).between(350, 380)
                 & (end + pd.Timedelta(days=ANNUAL_REPORT_DAYS) <= day)]
    if years.empty:
        return None
    return years.loc[pd.to_datetime(years["period_end"]).idxmax()]


def cisco_peak_multiples(reference: pd.DataFrame) -> CiscoPeak:
    """Cisco's P/E and P/S at the 2000-03-27 peak as they could be computed that day.

    Market value: the record close (``csco_close_peak_2000``) times the FY2000
    basic weighted-average share count (``csco_shares_basic_fy2000``, the
    count of the year holding the peak). Earnings and sales: the latest
    fiscal year whose 10-K was due (:data:`ANNUAL_REPORT_DAYS` after the year
    end) by the peak, i.e. fiscal 1999 (ended 1999-07-31), never fiscal 2000
    (ended 2000-07-29, published months after the peak). The verified
    reference table holds fiscal 1999 on the basis restated for later
    poolings of interests; the trailing four quarters to January 2000 are not
    in it.
    """
    none = CiscoPeak(None, None, "Cisco peak inputs not in the reference table "
                                 "(run bubblewatch init)")
    if reference is None or reference.empty:
        return none
    by_key = reference.set_index("key")
    if not {"csco_close_peak_2000", "csco_shares_basic_fy2000"} <= set(by_key.index):
        return none
    close_row = by_key.loc["csco_close_peak_2000"]
    day = pd.Timestamp(close_row["period_end"])
    mcap = float(close_row["value"]) * float(by_key.loc["csco_shares_basic_fy2000", "value"])
    ni, rev = _public_year(reference, "net_income", day), _public_year(reference, "revenue", day)
    shares = float(by_key.loc["csco_shares_basic_fy2000", "value"])
    parts = [f"close {float(close_row['value']):g} on {day.date()} x {shares:,.0f} m shares"]
    for name, row in (("net income", ni), ("net sales", rev)):
        if row is None:
            parts.append(f"no Cisco {name} public by {day.date()} in the reference table")
        else:
            parts.append(f"{name} {float(row['value']):,.0f} USD m for the fiscal year ended "
                         f"{pd.Timestamp(row['period_end']).date()} ({row['label']})")
    pe = mcap / float(ni["value"]) if ni is not None and float(ni["value"]) > 0 else None
    ps = mcap / float(rev["value"]) if rev is not None and float(rev["value"]) > 0 else None
    return CiscoPeak(pe, ps, "; ".join(parts) + "; the trailing four quarters to January 2000 "
                     "are not in the reference table")


class ValuationParams(Params):
    """Parameters of the valuation indicator."""

    daily_days: int = Field(504, ge=0, description="the last this many trading days are stored "
                            "daily, earlier ones weekly (0: all daily)")


class FundamentalFigure(BaseModel):
    """A trailing figure a ratio rests on, as known on the last stored day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    period_start: date | None = None
    period_end: date | None = None
    filed: date | None = None
    known_since: date | None = None
    concepts: str | list[str]
    stale: bool


class ValuationMeta(Meta):
    """What is stored beside each company's valuation series."""

    point_in_time: str = ("facts filed on or before each day, latest vintage known that day "
                          "(ingest.pit)")
    csco_peak_pe: float | None = None
    csco_peak_ps: float | None = None
    csco_peak_basis: str | None = None
    splits_detected: list[tuple[date, float]] = Field(default_factory=list)
    negative_earnings: str | None = None
    fundamentals: dict[str, FundamentalFigure] = Field(default_factory=dict)
    data_quality: list[str] = Field(default_factory=list)
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
    peak = cisco_peak_multiples(ctx.source.reference())
    csco_pe, csco_ps = peak.pe, peak.ps
    frame, notes = valuation_frame(close, facts, csco_pe=csco_pe, csco_ps=csco_ps, company=key)
    frame = thin(frame, params.daily_days)
    if "fundamentals" in notes:  # figures with no value yet are left out
        notes["fundamentals"] = {k: v for k, v in notes["fundamentals"].items() if v}
    fields: dict[str, Any] = {"csco_peak_pe": csco_pe, "csco_peak_ps": csco_ps,
                              "csco_peak_basis": peak.basis, **notes}
    if csco_pe is None:
        fields["note"] = f"Cisco peak multiples not available ({peak.basis}): run `bubblewatch init`"
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
        "(figures as known that day, no look-ahead), percentile against the company's own history and "
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
