"""Capex cycle: hyperscaler capital expenditure against the telecom build-out.

Per company (Microsoft, Alphabet, Amazon, Meta, Oracle by default): capex by
fiscal quarter and over the trailing four quarters, growth year on year,
capex/revenue and capex/operating cash flow, from EDGAR facts (quarters
derived from year-to-date filings by :mod:`ingest.pit`; Q4 = FY - 9M). Every
quarter is taken as first known (its figure on the day it could first be
computed from the filings), so no row uses a figure filed after it.
Each company keeps its own fiscal calendar; the ``hyperscalers`` total aligns
them by calendar quarter (the quarter that holds the middle of each fiscal
quarter) and keeps only quarters every reporting member has filed. The total
records which companies it covers on each date (``n_members``, ``coverage``;
the member list and spans in the metadata) and measures growth over the
companies present in both periods, so it is never read as the five
hyperscalers when it holds one ("Alphabet only: 1 of 5 hyperscalers"). The
``telecom`` key carries the 1996-2004 carrier-capex figures of the reference
table (annual; the only multi-year series is RHK's North American wireline
capex), so the two build-outs sit side by side.

This module also holds the fundamentals helpers the other cycle indicators
share (:func:`quarters`, :func:`ttm`, :func:`year_ago`), thin views over the
point-in-time layer :mod:`ingest.pit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.coverage import MemberSpan, coverage_label
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


@dataclass(frozen=True, slots=True)
class TotalCoverage:
    """Which companies the hyperscalers total holds.

    ``members`` are the declared ones, ``members_with_data`` those with any
    capex quarter, ``spans`` the first and last calendar quarter each one is
    in the quarterly sum (None: never), ``ttm_members`` the companies in each
    quarter's trailing-four-quarter sum.
    """

    members: tuple[str, ...]
    members_with_data: tuple[str, ...]
    spans: Mapping[str, MemberSpan]
    ttm_members: Mapping[pd.Timestamp, tuple[str, ...]] = dc_field(default_factory=dict)


def _same_members_growth(now: pd.DataFrame, then: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Growth of a sum over the members present in both ``now`` and ``then``
    (same index and columns), and how many members that is."""
    both = now.notna() & then.notna()
    num = now.where(both).sum(axis=1, min_count=1)
    den = then.where(both).sum(axis=1, min_count=1)
    return num / den.where(den > 0) - 1.0, both.sum(axis=1).astype(float)


def total_frame(parts: Mapping[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]],
                members: Sequence[str] | None = None) -> tuple[pd.DataFrame, TotalCoverage]:
    """Sum companies' capex (and revenue, operating cash flow) by calendar quarter,
    with the members each figure covers.

    Parameters
    ----------
    parts
        Symbol -> (capex, revenue, operating cash flow) quarterly frames in USD
        (``period_start, period_end, value``; ``known_since`` when the frames
        come from :func:`quarters`).
    members
        The declared members (default: the keys of ``parts``); coverage is a
        share of them.

    Returns
    -------
    DataFrame indexed by calendar-quarter end (USD m, ratios as fractions):
    ``capex_q`` (sum of the companies that reported the quarter),
    ``capex_ttm`` (sum of the trailing four quarters of every company with
    four contiguous quarters), ``n_members`` (companies in ``capex_ttm``) and
    ``coverage`` (``n_members`` / declared members), ``capex_yoy`` and
    ``capex_ttm_yoy`` (growth over the companies present in *both* periods,
    ``n_members_yoy`` of them, so a company whose data begins never counts as
    growth), ``capex_to_revenue``/``capex_to_ocf`` (trailing capex over
    trailing revenue / cash flow of the same companies) and
    ``days_to_known`` (days from the quarter's end to the day the last figure
    in ``capex_ttm`` became public; NaN without ``known_since``).

    A calendar quarter is kept when every company whose data has begun (and
    not ended) by then reported it, and no later than the last quarter all
    current reporters have reported (so a late filer never makes the total
    dip). A company whose figures end more than a quarter before the others'
    is no longer expected after its last quarter (its end is in ``spans``).
    """
    declared = tuple(members) if members is not None else tuple(parts)
    rows = []
    for sym, (cap, rev, ocf) in parts.items():
        for name, q in (("capex", cap), ("revenue", rev), ("ocf", ocf)):
            if q.empty:
                continue
            cq = calendar_quarter_end(q["period_start"], q["period_end"])
            known = (pd.to_datetime(q["known_since"]).to_numpy() if "known_since" in q
                     else np.full(len(q), np.datetime64("NaT", "ns")))
            rows.append(pd.DataFrame({"symbol": sym, "metric": name, "cq": cq.to_numpy(),
                                      "value": q["value"].to_numpy(dtype=float) / USD_M,
                                      "known": known}))
    empty = TotalCoverage(declared, (), {m: MemberSpan() for m in declared})
    if not rows:
        return pd.DataFrame(), empty
    long = pd.concat(rows, ignore_index=True).drop_duplicates(
        ["symbol", "metric", "cq"], keep="last")
    if not (long["metric"] == "capex").any():
        return pd.DataFrame(), empty
    wide = long.pivot_table(index="cq", columns=["metric", "symbol"], values="value",
                            aggfunc="sum")
    calendar = pd.date_range(wide.index.min(), wide.index.max(), freq="QE")
    wide = wide.reindex(calendar)
    capex = wide["capex"]
    known = long[long["metric"] == "capex"].pivot_table(
        index="cq", columns="symbol", values="known", aggfunc="max").reindex(calendar)
    first = capex.apply(lambda s: s.first_valid_index())
    last = capex.apply(lambda s: s.last_valid_index())
    newest = last.max()
    current = [s for s in capex.columns if last[s] >= newest - pd.offsets.QuarterEnd(1)]
    last_common = min(last[s] for s in current)
    keep = []
    for q in capex.index:
        expected = [s for s in capex.columns if first[s] <= q <= last[s]]
        keep.append(q <= last_common and bool(expected)
                    and capex.loc[q, expected].notna().all())
    keep_mask = np.array(keep)
    member_ttm = capex.rolling(4).sum()  # NaN unless the member has four contiguous quarters
    out = pd.DataFrame(index=capex.index)
    out["capex_q"] = capex.sum(axis=1, min_count=1)
    out["capex_ttm"] = member_ttm.sum(axis=1, min_count=1)
    n_ttm = member_ttm.notna().sum(axis=1).astype(float)
    out["n_members"] = n_ttm.where(n_ttm > 0)  # NaN where there is no trailing total
    out["coverage"] = out["n_members"] / max(len(declared), 1)
    out["capex_yoy"], _ = _same_members_growth(capex, capex.shift(4))
    out["capex_ttm_yoy"], n_yoy = _same_members_growth(member_ttm, member_ttm.shift(4))
    out["n_members_yoy"] = n_yoy.where(out["capex_ttm_yoy"].notna())
    for name, metric in (("capex_to_revenue", "revenue"), ("capex_to_ocf", "ocf")):
        if metric in wide.columns.get_level_values(0):
            denom = wide[metric].reindex(columns=capex.columns).rolling(4).sum()
            both = member_ttm.notna() & denom.notna()
            d = denom.where(both).sum(axis=1, min_count=1)
            out[name] = member_ttm.where(both).sum(axis=1, min_count=1) / d.where(d > 0)
        else:
            out[name] = np.nan
    lag = known.where(member_ttm.notna()).max(axis=1)
    out["days_to_known"] = (pd.to_datetime(lag) - out.index).dt.days.astype(float)
    out = out[keep_mask]
    included = capex[keep_mask]
    spans = {m: (MemberSpan(first=included[m].first_valid_index().date(),
                            last=included[m].last_valid_index().date())
                 if m in included and included[m].notna().any() else MemberSpan())
             for m in declared}
    in_ttm = member_ttm[keep_mask].notna()
    ttm_members = {q: tuple(m for m in declared if m in in_ttm.columns and in_ttm.loc[q, m])
                   for q in in_ttm.index}
    return out, TotalCoverage(declared, tuple(s for s in declared if s in capex.columns), spans,
                              ttm_members)


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


class ReferenceTotal(BaseModel):
    """The declared members' latest annual capex in the reference table, summed
    (a whole-sector annual figure to set beside annual telecom figures)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    members: list[str]
    members_missing: list[str]
    coverage: float
    label: str
    fiscal_years: dict[str, date]


class CapexMeta(Meta):
    """What is stored beside each capex key (company, hyperscalers total, telecom).

    For the hyperscalers total: the declared ``members``, those with EDGAR
    capex (``members_with_data``) and without, ``member_spans`` (first and
    last calendar quarter each is in the sum), ``coverage_label`` of the
    latest trailing-four-quarter figure ("Alphabet only: 1 of 5
    hyperscalers"), ``reference_total`` (the members' latest annual capex from
    the reference table) and ``telecom_comparison`` (what the comparison with
    2000 telecom spending covers on each side).
    """

    unit: str = "USD m"
    figures: list[ReferenceFigureUsed] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    members_with_data: list[str] = Field(default_factory=list)
    members_missing: list[str] = Field(default_factory=list)
    member_spans: dict[str, MemberSpan] = Field(default_factory=dict)
    n_members: int | None = None
    coverage: float | None = None
    coverage_label: str | None = None
    members_in_latest: list[str] = Field(default_factory=list)
    calendar_alignment: str | None = None
    reference_annual_capex: list[AnnualCapexFigure] = Field(default_factory=list)
    reference_total: ReferenceTotal | None = None
    ttm_vs_telecom_equipment_2000: float | None = None
    reference_total_vs_telecom_equipment_2000: float | None = None
    telecom_comparison: str | None = None
    concept: str | None = None
    fiscal_quarters: int | None = None
    last_quarter_end: date | None = None
    capex_ttm: float | None = None


def reference_total(figures: Sequence[AnnualCapexFigure], members: Sequence[str],
                    universe: Universe | None = None) -> ReferenceTotal | None:
    """Sum of each member's latest annual capex in the reference table (each
    on its own fiscal year), with its coverage; None when no member has one."""
    latest: dict[str, AnnualCapexFigure] = {}
    for f in figures:
        if f.symbol in members and (f.symbol not in latest
                                    or f.period_end > latest[f.symbol].period_end):
            latest[f.symbol] = f
    if not latest:
        return None
    have = [m for m in members if m in latest]
    return ReferenceTotal(
        value=float(sum(latest[m].value for m in have)), members=have,
        members_missing=[m for m in members if m not in latest],
        coverage=len(have) / len(members),
        label=coverage_label(have, members, "hyperscalers", universe),
        fiscal_years={m: latest[m].period_end for m in have})


def _total(ctx: ComputeContext, members: list[str], reference: pd.DataFrame
           ) -> IndicatorResult[CapexMeta]:
    parts = {s: company_parts(ctx.source, s) for s in members}
    frame, cov = total_frame(parts, members)
    with_data = list(cov.members_with_data)
    fields: dict[str, Any] = {}
    annual = [AnnualCapexFigure(**r) for r in _reference_capex(reference, members)]
    ref_total = reference_total(annual, members, ctx.universe)
    telecom, _ = telecom_frame(reference)
    peak = (float(telecom["us_equipment_spending"].max())
            if "us_equipment_spending" in telecom else None)
    peak_year = (int(telecom["us_equipment_spending"].idxmax().year)
                 if "us_equipment_spending" in telecom else None)
    latest = frame.dropna(subset=["capex_ttm"]) if not frame.empty else frame
    parts_text = []
    if not latest.empty:
        q = latest.index[-1]
        inside = list(cov.ttm_members.get(q, ()))
        label = coverage_label(inside, members, "hyperscalers", ctx.universe)
        fields.update(n_members=int(latest["n_members"].iloc[-1]),
                      coverage=float(latest["coverage"].iloc[-1]), coverage_label=label,
                      members_in_latest=inside)
        if peak:
            ratio = float(latest["capex_ttm"].iloc[-1] / peak)
            fields["ttm_vs_telecom_equipment_2000"] = ratio
            parts_text.append(
                f"trailing four quarters to {q.date()}: {label} ({ratio:.2f}x US carrier "
                f"equipment spending in {peak_year}" + ("" if len(inside) == len(members)
                                                 else "; a partial total, not the sector") + ")")
    if ref_total is not None and peak:
        r = ref_total.value / peak
        fields["reference_total_vs_telecom_equipment_2000"] = r
        parts_text.append(f"latest fiscal years in the reference table: {ref_total.label} "
                          f"({r:.2f}x)")
    if parts_text:
        fields["telecom_comparison"] = (
            f"US carrier equipment spending {peak_year} (USD {peak / 1e3:,.0f}bn) covers US "
            "carriers' equipment only; hyperscaler capex is global and includes buildings. "
            + "; ".join(parts_text) + ".")
    missing_members = [s for s in members if s not in with_data]
    if with_data and missing_members:
        fields["note"] = (f"total covers {', '.join(with_data)} only: no EDGAR capex for "
                          f"{', '.join(missing_members)} (load their companyfacts with "
                          "`bubblewatch ingest`)")
    if not with_data:
        fields["missing"] = (f"no EDGAR capex for any of {', '.join(members)}: load their "
                             "companyfacts with `bubblewatch ingest`")
    meta = CapexMeta(
        members=members, members_with_data=with_data, members_missing=missing_members,
        member_spans=dict(cov.spans),
        calendar_alignment="calendar quarter holding each fiscal quarter's midpoint",
        reference_annual_capex=annual, reference_total=ref_total, **fields)
    return IndicatorResult(frame, meta)


def compute(ctx: ComputeContext, key: str, params: CapexParams) -> IndicatorResult[CapexMeta]:
    members = list(ctx.universe.baskets.get("hyperscalers", ()))
    reference = ctx.source.reference()
    if key == TELECOM_KEY:
        frame, used = telecom_frame(reference)
        missing = ("telecom capex reference figures not loaded: run `bubblewatch init`"
                   if frame.empty else None)
        return IndicatorResult(frame, CapexMeta(figures=used, missing=missing))
    if key == TOTAL_KEY:
        return _total(ctx, members, reference)
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
                            "capex in the quarter / same quarter a year earlier - 1 (total: "
                            "over the companies in both quarters)"),
        "capex_ttm_yoy": Column("Capex growth, trailing four quarters", "fraction, 0.5 = +50%",
                                "trailing-four-quarter capex / the same a year earlier - 1 "
                                "(total: over the companies in both years)"),
        "capex_to_revenue": Column("Capex / revenue", "fraction",
                                   "trailing-four-quarter capex / revenue over the same quarters"),
        "capex_to_ocf": Column("Capex / operating cash flow", "fraction",
                               "trailing-four-quarter capex / operating cash flow over the "
                               "same quarters"),
        "n_members": Column("Companies in the trailing total", "count",
                            "(hyperscalers total) companies in the trailing-four-quarter sum"),
        "coverage": Column("Coverage of the trailing total", "fraction 0-1",
                           "(hyperscalers total) companies in the trailing sum / declared "
                           "hyperscalers"),
        "n_members_yoy": Column("Companies in the growth figure", "count",
                                "(hyperscalers total) companies with trailing capex in both "
                                "years of the growth figure"),
        "days_to_known": Column("Days until known", "days",
                                "(hyperscalers total) days from the quarter's end to the filing "
                                "of the last figure in the trailing sum"),
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
