"""Vendor financing and quality of earnings: days sales outstanding, receivables
growth against revenue growth, inventory days.

When a vendor lends to its customers, or ships ahead of demand, receivables
and inventory grow faster than sales. Cisco in 1999-2001 (customer financing,
the $2.25bn inventory write-off of 2001) is the dot-com case; NVIDIA today
(rising DSO, investments in and capacity orders from its own customers such
as CoreWeave) is the one watched here.

Per fiscal quarter, from EDGAR facts:

* ``dso`` = receivables at quarter end / quarter revenue x days in the quarter;
* ``dso_yoy`` = change of ``dso`` against the same quarter a year earlier (days);
* ``recv_minus_rev_growth`` = receivables growth y/y - revenue growth y/y;
* ``inventory_days`` = inventory / quarter cost of revenue x days (on revenue
  when the ``cost_of_revenue`` metric is not defined; ``meta`` says which).

Every quarter's figures are taken as first known from the filings
(:func:`indicators.capex.quarters`), so a row never changes once it is known
and never uses a figure filed after it.

Cisco's receivables and inventory for FY1997-2004 are not in the verified
reference table, so its DSO cannot be computed; its inventory write-down and
financing commitments, and the dot-com vendor-financing totals, are reported
in ``meta`` beside NVIDIA's customer-financing markers.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.capex import quarters, year_ago
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


def _flow(q: pd.DataFrame) -> pd.DataFrame:
    idx = pd.DatetimeIndex(q["period_end"])
    days = (idx - pd.DatetimeIndex(q["period_start"])).days + 1
    return pd.DataFrame({"value": q["value"].to_numpy(dtype=float), "days": days.to_numpy()},
                        index=idx)


def _stock(q: pd.DataFrame) -> pd.Series:
    return pd.Series(q["value"].to_numpy(dtype=float), index=pd.DatetimeIndex(q["period_end"]))


def quality_frame(revenue_q: pd.DataFrame, receivables: pd.DataFrame,
                  inventory: pd.DataFrame, cost_q: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quarterly earnings-quality ratios.

    Parameters
    ----------
    revenue_q
        Quarterly revenue (``period_start, period_end, value``), USD.
    receivables, inventory
        Balances at ``period_end`` (instants), USD; matched to the revenue
        quarter ending on the same date (within 3 days).
    cost_q
        Quarterly cost of revenue, USD; None or empty uses revenue instead.

    Returns
    -------
    DataFrame indexed by quarter end: ``revenue_q`` (USD m), ``receivables``
    (USD m), ``dso`` (days), ``dso_yoy`` (days), ``recv_minus_rev_growth``
    (fraction), ``inventory_days`` (days).
    """
    if revenue_q.empty:
        return pd.DataFrame()
    rev = _flow(revenue_q)
    rev = rev[~rev.index.duplicated(keep="last")]

    def on_quarter_end(stock: pd.DataFrame) -> pd.Series:
        if stock.empty:
            return pd.Series(np.nan, index=rev.index)
        s = _stock(stock).sort_index()
        s = s[~s.index.duplicated(keep="last")]
        left = pd.DataFrame({"q": rev.index.astype("datetime64[ns]")})
        right = pd.DataFrame({"d": s.index.astype("datetime64[ns]"), "v": s.to_numpy()})
        matched = pd.merge_asof(left, right, left_on="q", right_on="d", direction="nearest",
                                tolerance=pd.Timedelta(days=3))
        return pd.Series(matched["v"].to_numpy(), index=rev.index)

    ar = on_quarter_end(receivables)
    inv = on_quarter_end(inventory)
    out = pd.DataFrame(index=rev.index)
    out["revenue_q"] = rev["value"] / 1e6
    out["receivables"] = ar / 1e6
    out["dso"] = ar / rev["value"].where(rev["value"] > 0) * rev["days"]
    out["dso_yoy"] = out["dso"] - year_ago(out["dso"])
    rev_growth = rev["value"] / year_ago(rev["value"]) - 1.0
    ar_growth = ar / year_ago(ar) - 1.0
    out["recv_minus_rev_growth"] = ar_growth - rev_growth
    if cost_q is not None and not cost_q.empty:
        cost = _flow(cost_q)
        cost = cost[~cost.index.duplicated(keep="last")].reindex(rev.index)
        out["inventory_days"] = inv / cost["value"].where(cost["value"] > 0) * cost["days"]
    else:
        out["inventory_days"] = inv / rev["value"].where(rev["value"] > 0) * rev["days"]
    return out


class Marker(BaseModel):
    """A reference figure shown beside the series (value in its table unit)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    label: str


class ReferenceMarkers(BaseModel):
    """Dot-com vendor financing and Cisco's 2001 write-down beside NVIDIA's
    customer-financing markers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dotcom: dict[str, Marker] = Field(default_factory=dict)
    ai: dict[str, Marker] = Field(default_factory=dict)
    csco_inventory_charge_to_revenue_fy2001: float | None = None
    note: str | None = None


def _reference_markers(reference: pd.DataFrame) -> ReferenceMarkers:
    """The markers from the reference table (a note when it is not loaded)."""
    if reference is None or reference.empty:
        return ReferenceMarkers(note="reference figures not loaded: run `bubblewatch init`")
    by_key = {k: (float(v), lab) for k, v, lab in
              zip(reference["key"], reference["value"], reference["label"], strict=True)}

    def pick(keys: list[str]) -> dict[str, Marker]:
        return {k: Marker(value=by_key[k][0], label=by_key[k][1]) for k in keys if k in by_key}

    ratio = None
    if "csco_inventory_charge_fy2001" in by_key and "csco_revenue_fy2001" in by_key:
        ratio = by_key["csco_inventory_charge_fy2001"][0] / by_key["csco_revenue_fy2001"][0]
    return ReferenceMarkers(
        dotcom=pick(["csco_inventory_charge_fy2001", "csco_inventory_charge_guidance_2001",
                     "csco_softbank_fund_commitment", "vendor_loans_commitments_2000_09",
                     "lucent_winstar_financing_2000", "vendors_att_latam_loan_2002",
                     "csco_purchase_commitments_fy2002"]),
        ai=pick(["crwv_nvidia_anchor_order", "crwv_nvidia_capacity_order",
                 "crwv_nvidia_investment_2026", "nvda_openai_loi", "nvda_h20_charge_q1fy2026",
                 "nvda_dso_fy2020_2024_avg", "nvda_dso_q3fy2026"]),
        csco_inventory_charge_to_revenue_fy2001=ratio)


class EarningsQualityParams(Params):
    """The earnings-quality indicator has no parameters."""


class EarningsQualityMeta(Meta):
    """What is stored beside each company's earnings-quality series."""

    reference: ReferenceMarkers
    dotcom_note: str | None = None
    inventory_days_basis: str | None = None
    last_quarter_end: date | None = None
    dso: float | None = None
    dso_yoy: float | None = None


def compute(ctx: ComputeContext, key: str,
            params: EarningsQualityParams) -> IndicatorResult[EarningsQualityMeta]:
    facts = ctx.source.facts(key)
    rev = quarters(facts, "revenue", company=key)
    fields: dict[str, Any] = {"reference": _reference_markers(ctx.source.reference())}
    if key == "CSCO":
        fields["dotcom_note"] = ("Cisco receivables and inventory for FY1997-2004 are "
                                 "unverified (FACTS.md §18), so dot-com era DSO and inventory "
                                 "days are not computed; see the reference markers.")
    if rev.empty:
        fields["missing"] = (f"no SEC EDGAR revenue facts for {key}: load its companyfacts with "
                             "`bubblewatch ingest`")
        return IndicatorResult(pd.DataFrame(), EarningsQualityMeta(**fields))
    cost = quarters(facts, "cost_of_revenue", company=key)
    frame = quality_frame(rev, quarters(facts, "receivables", company=key),
                          quarters(facts, "inventory", company=key), cost)
    fields["inventory_days_basis"] = "cost of revenue" if not cost.empty else (
        "revenue (no cost_of_revenue metric in ingest.concepts)")
    last = frame.dropna(subset=["dso"])
    if not last.empty:
        fields.update({"last_quarter_end": last.index[-1].date(),
                       "dso": float(last["dso"].iloc[-1]),
                       "dso_yoy": float(last["dso_yoy"].iloc[-1])})
    return IndicatorResult(frame, EarningsQualityMeta(**fields))


def quality_keys(universe: Universe) -> list[str]:
    return [i.symbol for i in universe.instruments if i.cik is not None and not i.is_index]


INDICATOR = Indicator(
    name="earnings_quality",
    title="Vendor financing & quality of earnings",
    description=(
        "Days sales outstanding and its change y/y, receivables growth minus revenue growth, "
        "and inventory days per fiscal quarter from EDGAR; Cisco's 2001 inventory write-down "
        "and dot-com vendor financing beside NVIDIA's customer-financing markers."
    ),
    columns={
        "revenue_q": Column("Revenue in the quarter", "USD m", "revenue of the fiscal quarter"),
        "receivables": Column("Accounts receivable", "USD m", "at the quarter's end"),
        "dso": Column("Days sales outstanding", "days",
                      "receivables / quarter revenue x days in the quarter"),
        "dso_yoy": Column("Change in days sales outstanding", "days",
                          "days sales outstanding minus the same quarter a year earlier"),
        "recv_minus_rev_growth": Column("Receivables growth minus revenue growth", "fraction",
                                        "receivables growth y/y minus revenue growth y/y"),
        "inventory_days": Column("Inventory days", "days",
                                 "inventory / quarter cost of revenue x days in the quarter"),
    },
    params=EarningsQualityParams,
    meta=EarningsQualityMeta,
    keys=quality_keys,
    compute=compute,
    page="valuation",
    sampling="per fiscal quarter",
)
