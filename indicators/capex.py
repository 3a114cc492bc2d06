"""Capex cycle: hyperscaler capital expenditure against the telecom build-out.

Per company (Microsoft, Alphabet, Amazon, Meta, Oracle by default): capex by
fiscal quarter and over the trailing four quarters, growth year on year,
capex/revenue and capex/operating cash flow, from EDGAR facts (quarters
derived from year-to-date filings by :mod:`ingest.pit`; Q4 = FY - 9M). Every
quarter is taken as first known (its figure on the day it could first be
computed from the filings), so no row uses a figure filed after it.
Each company keeps its own fiscal calendar; the ``hyperscalers`` total aligns
them by calendar quarter (the quarter that holds the middle of each fiscal
quarter) and keeps only quarters every reporting member has filed. The
``telecom`` key carries the 1996-2004 carrier-capex figures of the reference
table (annual; the only multi-year series is RHK's North American wireline
capex), so the two build-outs sit side by side.

This module also holds the fundamentals helpers the other cycle indicators
share (:func:`quarters`, :func:`ttm`, :func:`year_ago`), thin views over the
point-in-time layer :mod:`ingest.pit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.registry import (
    Column,
    ComputeContext,
    DataSource,
    Indicator,
    IndicatorResult,
    Meta,
    Params,
)
from ingest.pit import QUARTER_COLUMNS, first_release, rolling_ttm

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

USD_M = 1e6
TOTAL_KEY = "hyperscalers"
TELECOM_KEY = "telecom"


# --------------------------------------------------------------------------- fundamentals helpers
def quarters(facts: pd.DataFrame, metric: str, *, company: str | None = None) -> pd.DataFrame:
    """Each fiscal quarter of ``metric`` as first known (point in time).

    Every row is the quarter's figure on the day it could first be computed
    from the company's filings (:meth:`ingest.pit.PitHistory.first_release`):
    ``period_start, period_end, value`` (metric unit), ``filed`` (newest filing
    the figure rests on), ``known_since`` (that day), ``derived``, ``concept``
    and ``concepts``. A later restatement or re-tagging never changes a row,
    so a series built on it only holds what was public on each row's
    ``known_since``. Empty when the company never filed the metric.
    ``company`` names it in data-quality warnings.
    """
    if facts is None or facts.empty:
        return pd.DataFrame(columns=QUARTER_COLUMNS)
    return first_release(facts, metric, company=company)


def ttm(q: pd.DataFrame) -> pd.Series:
    """Trailing-four-quarter sums of a quarterly frame, indexed by ``period_end``;
    NaN unless the four quarters are contiguous (:func:`ingest.pit.rolling_ttm`)."""
    if q.empty:
        return pd.Series(dtype=float)
    ends = pd.DatetimeIndex(pd.to_datetime(q["period_end"])).sort_values()
    rows = rolling_ttm(q)
    return pd.Series(rows["value"].to_numpy(dtype=float),
                     index=pd.DatetimeIndex(rows["period_end"])).reindex(ends)


def year_ago(s: pd.Series, tolerance_days: tuple[int, int] = (350, 380)) -> pd.Series:
    """The value four rows back when it ended about a year earlier, else NaN."""
    prev = s.shift(4)
    idx = pd.DatetimeIndex(s.index)
    lag = (idx - idx.to_series().shift(4).to_numpy()).days
    ok = (lag >= tolerance_days[0]) & (lag <= tolerance_days[1])
    return prev.where(ok)


def calendar_quarter_end(start: pd.Series, end: pd.Series) -> pd.Series:
    """End date of the calendar quarter holding each period's midpoint."""
    mid = pd.to_datetime(start) + (pd.to_datetime(end) - pd.to_datetime(start)) / 2
    return mid.dt.to_period("Q").dt.end_time.dt.normalize()


# --------------------------------------------------------------------------- maths
def capex_frame(capex_q: pd.DataFrame, revenue_q: pd.DataFrame,
                ocf_q: pd.DataFrame) -> pd.DataFrame:
    """Quarterly capex statistics of one company (USD m, ratios as fractions).

    Parameters
    ----------
    capex_q, revenue_q, ocf_q
        Quarterly frames (``period_start, period_end, value``) in USD.

    Returns
    -------
    DataFrame indexed by fiscal-quarter end with ``capex_q``, ``capex_ttm``,
    ``capex_yoy`` (quarter vs the same quarter a year earlier),
    ``capex_ttm_yoy``, ``capex_to_revenue`` and ``capex_to_ocf`` (TTM over TTM).
    """
    if capex_q.empty:
        return pd.DataFrame()
    idx = pd.DatetimeIndex(capex_q["period_end"])
    cq = pd.Series(capex_q["value"].to_numpy(dtype=float) / USD_M, index=idx)
    c_ttm = ttm(capex_q) / USD_M
    out = pd.DataFrame({"capex_q": cq, "capex_ttm": c_ttm.reindex(idx)})
    out["capex_yoy"] = cq / year_ago(cq) - 1.0
    out["capex_ttm_yoy"] = out["capex_ttm"] / year_ago(out["capex_ttm"]) - 1.0
    for name, q in (("capex_to_revenue", revenue_q), ("capex_to_ocf", ocf_q)):
        denom = (ttm(q) / USD_M).reindex(idx) if not q.empty else pd.Series(np.nan, index=idx)
        out[name] = out["capex_ttm"] / denom.where(denom > 0)
    return out


def total_frame(parts: Mapping[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sum companies' capex (and revenue, operating cash flow) by calendar quarter.

    A calendar quarter is kept when every company whose data has begun by then
    reported it, and no later than the last quarter all of them have
    reported (so a late filer never makes the total dip).
    """
    rows = []
    for sym, (cap, rev, ocf) in parts.items():
        for name, q in (("capex", cap), ("revenue", rev), ("ocf", ocf)):
            if q.empty:
                continue
            cq = calendar_quarter_end(q["period_start"], q["period_end"])
            rows.append(pd.DataFrame({"symbol": sym, "metric": name, "cq": cq.to_numpy(),
                                      "value": q["value"].to_numpy(dtype=float) / USD_M}))
    if not rows:
        return pd.DataFrame(), {"members_with_data": []}
    long = pd.concat(rows, ignore_index=True).drop_duplicates(
        ["symbol", "metric", "cq"], keep="last")
    wide = long.pivot_table(index="cq", columns=["metric", "symbol"], values="value", aggfunc="sum")
    capex = wide["capex"]
    first = capex.apply(lambda s: s.first_valid_index())
    last_common = min(capex[s].last_valid_index() for s in capex.columns)
    keep = []
    for q in capex.index:
        expected = [s for s in capex.columns if first[s] <= q]
        keep.append(q <= last_common and capex.loc[q, expected].notna().all())
    capex = capex[np.array(keep)]
    out = pd.DataFrame(index=capex.index)
    out["capex_q"] = capex.sum(axis=1, min_count=1)
    out["n_companies"] = capex.notna().sum(axis=1).astype(float)
    contiguous = pd.Series(out.index, index=out.index).diff().dt.days.between(85, 95)
    four = contiguous.rolling(3).sum() == 3
    out["capex_ttm"] = out["capex_q"].rolling(4).sum().where(four)
    out["capex_yoy"] = out["capex_q"] / year_ago(out["capex_q"]) - 1.0
    out["capex_ttm_yoy"] = out["capex_ttm"] / year_ago(out["capex_ttm"]) - 1.0
    for name, metric in (("capex_to_revenue", "revenue"), ("capex_to_ocf", "ocf")):
        if metric in wide.columns.get_level_values(0):
            m = wide[metric].reindex(out.index)[capex.columns.intersection(wide[metric].columns)]
            # same companies in numerator and denominator
            denom = m.where(capex.notna()).sum(axis=1, min_count=1).rolling(4).sum().where(four)
            out[name] = out["capex_ttm"] / denom.where(denom > 0)
        else:
            out[name] = np.nan
    return out, {"members_with_data": list(capex.columns)}


def telecom_frame(reference: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Telecom carrier capex 1996-2004 from the reference table (USD m),
    one column per series, indexed by period end; and the rows used."""
    if reference is None or reference.empty:
        return pd.DataFrame(), []
    series = {
        ("telecom_na_wireline", "capex"): "na_wireline_capex",
        ("telecom_na_wireline", "capex_forecast"): "na_wireline_capex_forecast",
        ("telecom_na_service_providers", "capex"): "na_service_provider_capex",
        ("telecom_us_carriers", "equipment_spending"): "us_equipment_spending",
        ("telecom_global_carriers", "capex"): "global_carrier_capex",
        ("telecom_global_carriers", "capex_forecast"): "global_carrier_capex_forecast",
        ("telecom_equipment_lehman", "equipment_spending"): "equipment_spending_lehman",
    }
    used: list[dict[str, Any]] = []
    cols: dict[str, pd.Series] = {}
    for (entity, metric), field in series.items():
        rows = reference[(reference["entity"] == entity) & (reference["metric"] == metric)]
        rows = rows[pd.to_datetime(rows["period_end"]).dt.year.between(1996, 2004)]
        if rows.empty:
            continue
        cols[field] = pd.Series(rows["value"].to_numpy(dtype=float),
                                index=pd.DatetimeIndex(pd.to_datetime(rows["period_end"])))
        used += [{"key": k, "value": float(v), "label": lab, "source": s}
                 for k, v, lab, s in zip(rows["key"], rows["value"], rows["label"], rows["source"],
                                         strict=True)]
    frame = pd.DataFrame(cols).sort_index()
    if "na_wireline_capex" in frame:
        frame["na_wireline_capex_yoy"] = frame["na_wireline_capex"].pct_change(fill_method=None)
    return frame, used


# --------------------------------------------------------------------------- indicator
def company_parts(source: DataSource, symbol: str) -> tuple[pd.DataFrame, pd.DataFrame,
                                                            pd.DataFrame]:
    facts = source.facts(symbol)
    return (quarters(facts, "capex", company=symbol), quarters(facts, "revenue", company=symbol),
            quarters(facts, "operating_cash_flow", company=symbol))


def _reference_capex(reference: pd.DataFrame, symbols: Sequence[str]) -> list[dict[str, Any]]:
    if reference is None or reference.empty:
        return []
    rows = reference[reference["entity"].isin(list(symbols)) & (reference["metric"] == "capex")]
    return [{"symbol": e, "period_end": pd.Timestamp(p).date().isoformat(), "value": float(v),
             "source_tag": t}
            for e, p, v, t in zip(rows["entity"], rows["period_end"], rows["value"],
                                  rows["source_tag"], strict=True)]


class CapexParams(Params):
    """The capex indicator has no parameters: members come from the universe's
    ``hyperscalers`` basket."""


class ReferenceFigureUsed(BaseModel):
    """A built-in reference figure an indicator used, with its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    value: float
    label: str
    source: str


class AnnualCapexFigure(BaseModel):
    """A company's annual capex from the reference table (cross-check of the total)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    period_end: date
    value: float
    source_tag: str


class CapexMeta(Meta):
    """What is stored beside each capex key (company, hyperscalers total, telecom)."""

    unit: str = "USD m"
    figures: list[ReferenceFigureUsed] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    members_with_data: list[str] = Field(default_factory=list)
    members_missing: list[str] = Field(default_factory=list)
    calendar_alignment: str | None = None
    reference_annual_capex: list[AnnualCapexFigure] = Field(default_factory=list)
    ttm_vs_telecom_equipment_2000: float | None = None
    concept: str | None = None
    fiscal_quarters: int | None = None
    last_quarter_end: date | None = None
    capex_ttm: float | None = None


def compute(ctx: ComputeContext, key: str, params: CapexParams) -> IndicatorResult[CapexMeta]:
    members = list(ctx.universe.baskets.get("hyperscalers", ()))
    reference = ctx.source.reference()
    if key == TELECOM_KEY:
        frame, used = telecom_frame(reference)
        missing = ("telecom capex reference figures not loaded: run `bubblewatch init`"
                   if frame.empty else None)
        return IndicatorResult(frame, CapexMeta(figures=used, missing=missing))
    if key == TOTAL_KEY:
        parts = {s: company_parts(ctx.source, s) for s in members}
        frame, info = total_frame(parts)
        with_data = info["members_with_data"]
        fields: dict[str, Any] = {}
        telecom, _ = telecom_frame(reference)
        if not frame.empty and "us_equipment_spending" in telecom:
            peak = float(telecom["us_equipment_spending"].max())
            last = frame["capex_ttm"].dropna()
            if len(last):
                fields["ttm_vs_telecom_equipment_2000"] = float(last.iloc[-1] / peak)
        if with_data and len(with_data) < len(members):
            fields["note"] = (f"total covers {', '.join(with_data)} only: no EDGAR capex for "
                              f"{', '.join(s for s in members if s not in with_data)}")
        if not with_data:
            fields["missing"] = (f"no EDGAR capex for any of {', '.join(members)}: load their "
                                 "companyfacts with `bubblewatch ingest`")
        meta = CapexMeta(
            members=members, members_with_data=with_data,
            members_missing=[s for s in members if s not in with_data],
            calendar_alignment="calendar quarter holding each fiscal quarter's midpoint",
            reference_annual_capex=_reference_capex(reference, members), **fields)
        return IndicatorResult(frame, meta)
    cap, rev, ocf = company_parts(ctx.source, key)
    if cap.empty:
        return IndicatorResult(pd.DataFrame(), CapexMeta(
            missing=f"no SEC EDGAR capex facts for {key}: load its companyfacts with "
                    "`bubblewatch ingest`"))
    frame = capex_frame(cap, rev, ocf)
    last = frame.dropna(subset=["capex_ttm"])
    meta = CapexMeta(concept=str(cap["concept"].iloc[-1]), fiscal_quarters=len(frame),
                     last_quarter_end=last.index[-1].date() if not last.empty else None,
                     capex_ttm=float(last["capex_ttm"].iloc[-1]) if not last.empty else None)
    return IndicatorResult(frame, meta)


def capex_keys(universe: Universe) -> list[str]:
    members = list(universe.baskets.get("hyperscalers", ()))
    return [*members, TOTAL_KEY, TELECOM_KEY]


INDICATOR = Indicator(
    name="capex",
    title="Capex cycle: hyperscalers vs telecom",
    description=(
        "Hyperscaler capital expenditure (cash purchases of property and equipment) by fiscal "
        "quarter and trailing four quarters, growth y/y, capex/revenue and capex/operating cash "
        "flow; the hyperscalers total by calendar quarter; telecom carrier capex 1996-2004 from "
        "the reference table beside it."
    ),
    columns={
        "capex_q": Column("Capex in the quarter", "USD m", "capital expenditure in the quarter"),
        "capex_ttm": Column("Capex, trailing four quarters", "USD m",
                            "capital expenditure over the last four quarters"),
        "capex_yoy": Column("Quarterly capex growth", "fraction, 0.5 = +50%",
                            "capex in the quarter / same quarter a year earlier - 1"),
        "capex_ttm_yoy": Column("Capex growth, trailing four quarters", "fraction, 0.5 = +50%",
                                "trailing-four-quarter capex / the same a year earlier - 1"),
        "capex_to_revenue": Column("Capex / revenue", "fraction",
                                   "trailing-four-quarter capex / revenue over the same quarters"),
        "capex_to_ocf": Column("Capex / operating cash flow", "fraction",
                               "trailing-four-quarter capex / operating cash flow over the "
                               "same quarters"),
        "n_companies": Column("Companies in the total", "count",
                              "(hyperscalers total) companies in the quarter's sum"),
        "na_wireline_capex": Column("North American wireline carrier capex", "USD m a year",
                                    "(telecom) RHK's figure for the year"),
        "na_wireline_capex_yoy": Column("North American wireline capex growth", "fraction",
                                        "(telecom) change on the previous year"),
        "na_wireline_capex_forecast": Column("North American wireline capex forecast",
                                             "USD m a year", "(telecom) RHK's forecast"),
        "na_service_provider_capex": Column("North American service-provider capex",
                                            "USD m a year", "(telecom) cited annual figure"),
        "us_equipment_spending": Column("US carrier equipment spending", "USD m a year",
                                        "(telecom) cited annual figure"),
        "global_carrier_capex": Column("Global carrier capex", "USD m a year",
                                       "(telecom) cited annual figure"),
        "global_carrier_capex_forecast": Column("Global carrier capex forecast", "USD m a year",
                                                "(telecom) cited forecast"),
        "equipment_spending_lehman": Column("Telecom equipment spending (Lehman)", "USD m a year",
                                            "(telecom) Lehman Brothers' figure"),
    },
    params=CapexParams,
    meta=CapexMeta,
    keys=capex_keys,
    compute=compute,
    page="capex",
    sampling="per fiscal quarter (companies), calendar quarter (total), year (telecom)",
)
