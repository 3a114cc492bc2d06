"""Revenue gap: Sequoia's "AI's $600B question".

David Cahn (Sequoia, June 2024) asks how much revenue the AI ecosystem must
earn to pay for NVIDIA's data-centre shipments: take NVIDIA's data-centre
(DC) revenue run-rate, double it for the rest of the data-centre cost (GPUs
are about half of the total cost of ownership: energy, buildings, backup
generators), and double again for a 50% gross margin at the end user of the
GPU. 150bn x 2 x 2 = 600bn. Against that sits the AI revenue actually earned.

Assumptions are parameters:

``run_rate_quarters``
    quarters per year in the run-rate (4: the quarter's DC revenue x 4);
``tco_multiplier``
    total data-centre cost per dollar of GPUs (2);
``margin_multiplier``
    revenue per dollar of cost for the GPU's end user (2 = 50% gross margin);
``ai_revenue_entities``
    reference-table entities whose reported revenue is pure AI revenue
    (CoreWeave by default); each one's latest reported period is annualised;
``assumed_ai_revenue``
    an explicit AI-revenue assumption in USD m (default 100,000: Sequoia's
    generous 2024 assumption implied by 600bn - 500bn gap).

NVIDIA's DC revenue comes from the reference table (FY2021 and FY2024-FY2026
quarters). For later quarters that EDGAR already holds, DC revenue is
estimated as total revenue x the last known DC share (``dc_estimated`` = 1).
EDGAR revenue is each quarter's figure as first known (:mod:`ingest.pit`);
reported AI revenue counts from its report deadline
(:func:`reported_ai_revenue`).

Reference: Cahn, D. (2024), "AI's $600B Question", Sequoia Capital,
https://sequoiacap.com/article/ais-600b-question
"""

from __future__ import annotations

from collections.abc import Sequence
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

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe


def dc_revenue_quarters(reference: pd.DataFrame, entity: str = "NVDA") -> pd.DataFrame:
    """NVIDIA Data Center revenue by fiscal quarter from the reference table:
    ``period_start``, ``value`` (USD m) indexed by quarter end."""
    if reference is None or reference.empty:
        return pd.DataFrame(columns=["period_start", "value"])
    rows = reference[(reference["entity"] == entity)
                     & (reference["metric"] == "dc_revenue_quarter")]
    out = pd.DataFrame({"period_start": pd.to_datetime(rows["period_start"]).to_numpy(),
                        "value": rows["value"].to_numpy(dtype=float)},
                       index=pd.DatetimeIndex(pd.to_datetime(rows["period_end"]), name="date"))
    return out.sort_index()


#: Days after a period's end by which a listed company's report is due at the
#: latest (SEC deadlines of the slowest filer category: 10-Q 45 days, 10-K 90).
QUARTER_REPORT_DAYS = 45
YEAR_REPORT_DAYS = 90


def reported_ai_revenue(reference: pd.DataFrame, entities: Sequence[str],
                        dates: pd.DatetimeIndex, *, quarter_report_days: int = QUARTER_REPORT_DAYS,
                        year_report_days: int = YEAR_REPORT_DAYS) -> pd.Series:
    """Annualised reported AI revenue known at each date, USD m: for each entity
    the latest period already reported by the date, scaled to 365 days, summed
    over entities that have reported by then (NaN before any).

    The reference table has no publication dates, so a figure counts as known
    from its report deadline: ``quarter_report_days`` after the end of a
    period of up to 100 days, ``year_report_days`` after a longer one. A
    company files by its deadline, so this never looks ahead for a listed
    company (figures a company disclosed only later, e.g. before its listing,
    would need their own publication date).
    """
    total = pd.Series(np.nan, index=dates)
    if reference is None or reference.empty:
        return total
    for entity in entities:
        rows = reference[(reference["entity"] == entity) & (reference["metric"] == "revenue")]
        if rows.empty:
            continue
        start = pd.to_datetime(rows["period_start"])
        end = pd.to_datetime(rows["period_end"])
        days = (end - start).dt.days + 1
        annual = rows["value"].to_numpy(dtype=float) * 365.0 / days
        lag = np.where(days <= 100, quarter_report_days, year_report_days)
        known_from = end + pd.to_timedelta(lag, unit="D")
        s = pd.DataFrame({"known": known_from.to_numpy(), "end": end.to_numpy(),
                          "v": annual.to_numpy()}).sort_values(["known", "end"])
        # a report for an older period never replaces a newer one already known
        s = s[s["end"] >= s["end"].cummax()].drop_duplicates("known", keep="last")
        s = pd.Series(s["v"].to_numpy(), index=pd.DatetimeIndex(s["known"]))
        known = s.reindex(s.index.union(dates)).ffill().reindex(dates)
        total = total.add(known, fill_value=0.0).where(total.notna() | known.notna())
    return total


def gap_frame(dc: pd.DataFrame, revenue_q: pd.DataFrame, ai_revenue: pd.Series | None,
              *, run_rate_quarters: float = 4.0, tco_multiplier: float = 2.0,
              margin_multiplier: float = 2.0, assumed_ai_revenue: float | None = None,
              ) -> pd.DataFrame:
    """Required AI revenue and the gap per NVIDIA fiscal quarter (USD m).

    Parameters
    ----------
    dc
        DC revenue by quarter (index quarter end, ``value`` USD m).
    revenue_q
        NVIDIA total quarterly revenue from EDGAR (``period_end``, ``value`` USD);
        extends the series past the last DC quarter at the last DC share.
    ai_revenue
        Annualised reported AI revenue per quarter end (USD m), or None.
    """
    total = pd.Series(dtype=float)
    if not revenue_q.empty:
        total = pd.Series(revenue_q["value"].to_numpy(dtype=float) / 1e6,
                          index=pd.DatetimeIndex(revenue_q["period_end"]))
        total = total[~total.index.duplicated(keep="last")]
    dc_s = dc["value"] if not dc.empty else pd.Series(dtype=float)
    idx = dc_s.index.union(total.index[total.index > dc_s.index.max()] if len(dc_s) else [])
    out = pd.DataFrame(index=pd.DatetimeIndex(idx, name="date"))
    out["revenue_q"] = total.reindex(out.index) if len(total) else np.nan
    out["dc_revenue_q"] = dc_s.reindex(out.index)
    out["dc_estimated"] = 0.0
    if len(dc_s) and len(total):
        known_share = (dc_s / total.reindex(dc_s.index)).dropna()
        if len(known_share):
            later = out.index > dc_s.index.max()
            out.loc[later, "dc_revenue_q"] = out.loc[later, "revenue_q"] * known_share.iloc[-1]
            out.loc[later, "dc_estimated"] = 1.0
    out = out.dropna(subset=["dc_revenue_q"])
    out["dc_share"] = out["dc_revenue_q"] / out["revenue_q"]
    out["dc_run_rate"] = out["dc_revenue_q"] * run_rate_quarters
    out["required_revenue"] = out["dc_run_rate"] * tco_multiplier * margin_multiplier
    if ai_revenue is not None:
        out["ai_revenue_reported"] = ai_revenue.reindex(out.index)
        out["gap_reported"] = out["required_revenue"] - out["ai_revenue_reported"]
    if assumed_ai_revenue is not None:
        out["gap_assumed"] = out["required_revenue"] - float(assumed_ai_revenue)
        out["gap_share"] = out["gap_assumed"] / out["required_revenue"]
    return out


class RevenueGapParams(Params):
    """Assumptions of Sequoia's arithmetic (see the module docstring)."""

    run_rate_quarters: float = Field(4, gt=0, description="quarters per year in the run-rate")
    tco_multiplier: float = Field(2.0, gt=0, description="total data-centre cost per dollar of "
                                  "GPUs")
    margin_multiplier: float = Field(2.0, gt=0, description="end-user revenue per dollar of "
                                     "cost (2 = 50% gross margin)")
    ai_revenue_entities: tuple[str, ...] = Field(("CRWV",), description="reference-table "
                                                 "entities whose revenue counts as AI revenue")
    assumed_ai_revenue: float | None = Field(100000.0, ge=0, description="explicit AI-revenue "
                                             "assumption, USD m a year (None: none)")


class RevenueGapMeta(Meta):
    """What is stored beside the revenue-gap series."""

    unit: str = "USD m"
    formula: str = ("required = DC quarter revenue x run_rate_quarters x tco_multiplier x "
                    "margin_multiplier")
    ai_revenue_entities: list[str] = Field(default_factory=list)
    dc_source: str | None = None
    last_quarter_end: date | None = None
    required_revenue: float | None = None
    gap_assumed: float | None = None
    dc_estimated: bool | None = None


def compute(ctx: ComputeContext, key: str,
            params: RevenueGapParams) -> IndicatorResult[RevenueGapMeta]:
    reference = ctx.source.reference()
    dc = dc_revenue_quarters(reference, key)
    entities = list(params.ai_revenue_entities)
    if dc.empty:
        return IndicatorResult(pd.DataFrame(), RevenueGapMeta(
            ai_revenue_entities=entities,
            missing="no NVIDIA Data Center revenue in the reference table: run "
                    "`bubblewatch init`"))
    rev = quarters(ctx.source.facts(key), "revenue", company=key)
    idx = dc.index.union(pd.DatetimeIndex(rev["period_end"]) if not rev.empty else [])
    ai_rev = reported_ai_revenue(reference, entities, pd.DatetimeIndex(idx))
    frame = gap_frame(
        dc, rev, ai_rev, run_rate_quarters=params.run_rate_quarters,
        tco_multiplier=params.tco_multiplier, margin_multiplier=params.margin_multiplier,
        assumed_ai_revenue=params.assumed_ai_revenue)
    fields: dict[str, Any] = {}
    if rev.empty:
        fields["note"] = f"no EDGAR revenue for {key}: no DC share, no later quarters"
    if not frame.empty:
        last = frame.iloc[-1]
        fields.update({"last_quarter_end": frame.index[-1].date(),
                       "required_revenue": float(last["required_revenue"]),
                       "gap_assumed": (float(last["gap_assumed"]) if "gap_assumed" in frame
                                       else None),
                       "dc_estimated": bool(last["dc_estimated"])})
    meta = RevenueGapMeta(
        ai_revenue_entities=entities,
        dc_source="reference table (FY2021, FY2024-FY2026 quarters); later quarters estimated "
                  "at the last known DC share of EDGAR revenue", **fields)
    return IndicatorResult(frame, meta)


def gap_keys(universe: Universe) -> list[str]:
    return ["NVDA"] if "NVDA" in universe.symbols else []


INDICATOR = Indicator(
    name="revenue_gap",
    title="Revenue gap (Sequoia's $600B question)",
    description=(
        "NVIDIA data-centre revenue run-rate x 2 (rest of the data-centre cost) x 2 (end-user "
        "gross margin) = AI revenue required to pay for the build-out (Cahn, Sequoia 2024), "
        "against reported pure-play AI revenue and an explicit assumption."
    ),
    columns={
        "revenue_q": Column("NVIDIA revenue in the quarter", "USD m", "total revenue"),
        "dc_revenue_q": Column("NVIDIA Data Center revenue in the quarter", "USD m",
                               "reported, or estimated (see the estimated flag)"),
        "dc_estimated": Column("Data Center revenue estimated", "1 = yes, 0 = no",
                               "1 when estimated as total revenue x the last known Data Center "
                               "share"),
        "dc_share": Column("Data Center share of revenue", "fraction",
                           "Data Center revenue / total revenue"),
        "dc_run_rate": Column("Data Center run-rate", "USD m a year",
                              "Data Center revenue in the quarter x quarters per year"),
        "required_revenue": Column("AI revenue required", "USD m a year",
                                   "run-rate x data-centre cost multiplier x margin multiplier"),
        "ai_revenue_reported": Column("AI revenue reported", "USD m a year",
                                      "annualised revenue of the listed AI-revenue companies"),
        "gap_reported": Column("Gap to reported AI revenue", "USD m a year",
                               "AI revenue required - AI revenue reported"),
        "gap_assumed": Column("Gap to assumed AI revenue", "USD m a year",
                              "AI revenue required - the assumed AI revenue"),
        "gap_share": Column("Share of required revenue not covered", "fraction",
                            "gap to assumed AI revenue / AI revenue required"),
    },
    params=RevenueGapParams,
    meta=RevenueGapMeta,
    keys=gap_keys,
    compute=compute,
    page="capex",
    sampling="per NVIDIA fiscal quarter",
)
