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
``ai_revenue_members``
    the companies whose reported AI revenue is summed against the required
    revenue, as reference-table entities: ``"CRWV"`` counts the entity's whole
    revenue (a pure play), ``"MSFT:ai_revenue"`` an explicitly reported AI
    revenue figure (metric ``ai_revenue``). By default CoreWeave and the five
    hyperscalers, the sellers of AI compute; each member's latest reported
    period is annualised. Members with no figure known on a date are *not*
    counted as zero: ``ai_revenue_n_members``/``ai_revenue_coverage`` say how
    many of the declared members the sum holds, and the metadata names them
    ("CoreWeave only: 1 of 6 AI-revenue members");
``assumed_ai_revenue``
    an explicit AI-revenue scenario in USD m (default 100,000: Sequoia's
    generous 2024 assumption implied by 600bn - 500bn gap), shown beside the
    reported figure as ``gap_assumed``; it no longer drives ``gap_share``.

``gap_share`` is the share of the required revenue not covered by the
*reported* AI revenue of the members, so it moves with what companies report,
not with NVIDIA's revenue alone against a frozen assumption. Sequoia's own
inputs (run-rate, multipliers, the 2023 and 2024 figures) are stored in the
metadata (``sequoia_inputs``) and shown on the dashboard.

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

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from indicators.capex import ReferenceFigureUsed, quarters
from indicators.coverage import coverage_label
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


def parse_member(member: str) -> tuple[str, str]:
    """``"CRWV"`` -> ``("CRWV", "revenue")`` (a pure play's whole revenue);
    ``"MSFT:ai_revenue"`` -> ``("MSFT", "ai_revenue")``."""
    entity, _, metric = member.partition(":")
    return entity, metric or "revenue"


def reported_ai_revenue_frame(reference: pd.DataFrame, members: Sequence[str],
                              dates: pd.DatetimeIndex, *,
                              quarter_report_days: int = QUARTER_REPORT_DAYS,
                              year_report_days: int = YEAR_REPORT_DAYS) -> pd.DataFrame:
    """Annualised reported AI revenue known at each date, per member and summed.

    For each member (:func:`parse_member`) the latest period already reported
    by the date, scaled to 365 days. The reference table has no publication
    dates, so a figure counts as known from its report deadline:
    ``quarter_report_days`` after the end of a period of up to 100 days,
    ``year_report_days`` after a longer one. A company files by its deadline,
    so this never looks ahead for a listed company (figures a company
    disclosed only later, e.g. before its listing, would need their own
    publication date).

    Returns
    -------
    DataFrame indexed by ``dates``: one column per member (USD m a year, NaN
    before its first known figure), ``total`` (sum over the members known
    then, NaN before any: a member without a figure is never counted as
    zero), ``n_members`` and ``coverage`` (share of ``members``).
    """
    out = pd.DataFrame(index=dates)
    for member in members:
        out[member] = np.nan
        entity, metric = parse_member(member)
        if reference is None or reference.empty:
            continue
        rows = reference[(reference["entity"] == entity) & (reference["metric"] == metric)]
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
        out[member] = s.reindex(s.index.union(dates)).ffill().reindex(dates)
    have = out[list(members)].notna()
    out["total"] = out[list(members)].sum(axis=1, min_count=1)
    out["n_members"] = have.sum(axis=1).astype(float)
    out["coverage"] = out["n_members"] / max(len(members), 1)
    return out


def reported_ai_revenue(reference: pd.DataFrame, entities: Sequence[str],
                        dates: pd.DatetimeIndex, *, quarter_report_days: int = QUARTER_REPORT_DAYS,
                        year_report_days: int = YEAR_REPORT_DAYS) -> pd.Series:
    """The ``total`` of :func:`reported_ai_revenue_frame`: annualised reported
    AI revenue known at each date, USD m, summed over the members known then
    (NaN before any)."""
    return reported_ai_revenue_frame(reference, entities, dates,
                                     quarter_report_days=quarter_report_days,
                                     year_report_days=year_report_days)["total"]


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

    Returns
    -------
    DataFrame per quarter end: revenue and DC revenue, ``dc_run_rate``,
    ``required_revenue``, ``ai_revenue_reported``, ``gap_reported`` and
    ``gap_share`` (gap to reported AI revenue / required), and with an
    assumption ``gap_assumed`` and ``gap_share_assumed``.
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
        out["gap_share"] = out["gap_reported"] / out["required_revenue"]
    if assumed_ai_revenue is not None:
        out["gap_assumed"] = out["required_revenue"] - float(assumed_ai_revenue)
        out["gap_share_assumed"] = out["gap_assumed"] / out["required_revenue"]
    return out


#: Default AI-revenue members: the pure-play AI cloud (its whole revenue) and the five
#: hyperscalers' explicitly reported AI revenue (none is in the reference table yet).
DEFAULT_AI_REVENUE_MEMBERS: tuple[str, ...] = (
    "CRWV", "MSFT:ai_revenue", "GOOGL:ai_revenue", "AMZN:ai_revenue", "META:ai_revenue",
    "ORCL:ai_revenue")


class RevenueGapParams(Params):
    """Assumptions of Sequoia's arithmetic (see the module docstring)."""

    run_rate_quarters: float = Field(4, gt=0, description="quarters per year in the run-rate")
    tco_multiplier: float = Field(2.0, gt=0, description="total data-centre cost per dollar of "
                                  "GPUs")
    margin_multiplier: float = Field(2.0, gt=0, description="end-user revenue per dollar of "
                                     "cost (2 = 50% gross margin)")
    ai_revenue_members: tuple[str, ...] = Field(
        DEFAULT_AI_REVENUE_MEMBERS, min_length=1,
        description="reference-table entities whose AI revenue is summed: 'CRWV' counts the "
                    "entity's whole revenue (pure play), 'MSFT:ai_revenue' its reported AI "
                    "revenue")
    assumed_ai_revenue: float | None = Field(100000.0, ge=0, description="explicit AI-revenue "
                                             "scenario, USD m a year (None: none)")

    @field_validator("ai_revenue_members")
    @classmethod
    def _members(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for m in v:
            if not re.fullmatch(r"[A-Za-z0-9_.^-]+(:[a-z_]+)?", m):
                raise ValueError(f"{m!r} is not ENTITY or ENTITY:metric (e.g. 'CRWV', "
                                 "'MSFT:ai_revenue')")
        if len(set(v)) != len(v):
            raise ValueError("ai_revenue_members lists a member twice")
        return v


class SequoiaInputs(BaseModel):
    """The arithmetic's inputs as used, and Sequoia's own published figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_rate_quarters: float
    tco_multiplier: float
    margin_multiplier: float
    assumed_ai_revenue: float | None
    published: list[ReferenceFigureUsed] = Field(default_factory=list)


class RevenueGapMeta(Meta):
    """What is stored beside the revenue-gap series.

    ``ai_revenue_members`` are the declared members, ``ai_revenue_members_with_data``
    those with a figure known at the last quarter, ``ai_revenue_label`` says
    it in words; ``sequoia_inputs`` are the multipliers in use and Sequoia's
    published figures from the reference table.
    """

    unit: str = "USD m"
    formula: str = ("required = DC quarter revenue x run_rate_quarters x tco_multiplier x "
                    "margin_multiplier; gap_share = (required - reported AI revenue) / required")
    ai_revenue_members: list[str] = Field(default_factory=list)
    ai_revenue_members_with_data: list[str] = Field(default_factory=list)
    ai_revenue_coverage: float | None = None
    ai_revenue_label: str | None = None
    sequoia_inputs: SequoiaInputs | None = None
    dc_source: str | None = None
    last_quarter_end: date | None = None
    required_revenue: float | None = None
    ai_revenue_reported: float | None = None
    gap_reported: float | None = None
    gap_share: float | None = None
    gap_assumed: float | None = None
    dc_estimated: bool | None = None


def sequoia_figures(reference: pd.DataFrame) -> list[ReferenceFigureUsed]:
    """Sequoia's published figures (entity ``Sequoia``) from the reference table."""
    if reference is None or reference.empty:
        return []
    rows = reference[reference["entity"] == "Sequoia"].sort_values(["period_end", "key"])
    return [ReferenceFigureUsed(key=str(k), value=float(v), label=str(lab), source=str(src))
            for k, v, lab, src in zip(rows["key"], rows["value"], rows["label"], rows["source"],
                                      strict=True)]


def _members_label(members: Sequence[str], have: Sequence[str], universe: Universe) -> str:
    entities = [parse_member(m)[0] for m in members]
    covered = [parse_member(m)[0] for m in have]
    return coverage_label(covered, entities, "AI-revenue members", universe)


def compute(ctx: ComputeContext, key: str,
            params: RevenueGapParams) -> IndicatorResult[RevenueGapMeta]:
    reference = ctx.source.reference()
    dc = dc_revenue_quarters(reference, key)
    members = list(params.ai_revenue_members)
    inputs = SequoiaInputs(run_rate_quarters=params.run_rate_quarters,
                           tco_multiplier=params.tco_multiplier,
                           margin_multiplier=params.margin_multiplier,
                           assumed_ai_revenue=params.assumed_ai_revenue,
                           published=sequoia_figures(reference))
    if dc.empty:
        return IndicatorResult(pd.DataFrame(), RevenueGapMeta(
            ai_revenue_members=members, sequoia_inputs=inputs,
            missing="no NVIDIA Data Center revenue in the reference table: run "
                    "`bubblewatch init`"))
    rev = quarters(ctx.source.facts(key), "revenue", company=key)
    idx = pd.DatetimeIndex(dc.index.union(pd.DatetimeIndex(rev["period_end"])
                                          if not rev.empty else []))
    ai = reported_ai_revenue_frame(reference, members, idx)
    frame = gap_frame(
        dc, rev, ai["total"], run_rate_quarters=params.run_rate_quarters,
        tco_multiplier=params.tco_multiplier, margin_multiplier=params.margin_multiplier,
        assumed_ai_revenue=params.assumed_ai_revenue)
    frame["ai_revenue_n_members"] = ai["n_members"].reindex(frame.index)
    frame["ai_revenue_coverage"] = ai["coverage"].reindex(frame.index).where(
        frame["ai_revenue_n_members"] > 0)
    frame["days_to_known"] = _days_to_known(frame, rev)
    fields: dict[str, Any] = {}
    if rev.empty:
        fields["note"] = f"no EDGAR revenue for {key}: no DC share, no later quarters"
    if not frame.empty:
        last = frame.iloc[-1]
        have = [m for m in members if pd.notna(ai.loc[frame.index[-1], m])]

        def num(name: str) -> float | None:
            return float(last[name]) if name in frame and pd.notna(last[name]) else None

        fields.update({"last_quarter_end": frame.index[-1].date(),
                       "required_revenue": float(last["required_revenue"]),
                       "ai_revenue_reported": num("ai_revenue_reported"),
                       "gap_reported": num("gap_reported"), "gap_share": num("gap_share"),
                       "gap_assumed": num("gap_assumed"),
                       "dc_estimated": bool(last["dc_estimated"]),
                       "ai_revenue_members_with_data": have,
                       "ai_revenue_coverage": len(have) / len(members),
                       "ai_revenue_label": _members_label(members, have, ctx.universe)})
    meta = RevenueGapMeta(
        ai_revenue_members=members, sequoia_inputs=inputs,
        dc_source="reference table (FY2021, FY2024-FY2026 quarters); later quarters estimated "
                  "at the last known DC share of EDGAR revenue", **fields)
    return IndicatorResult(frame, meta)


def _days_to_known(frame: pd.DataFrame, rev: pd.DataFrame) -> pd.Series:
    """Days from each quarter's end to when its required revenue could be
    computed: the 10-Q deadline for reference-table DC revenue (no publication
    date), the EDGAR revenue's ``known_since`` for estimated quarters."""
    days = pd.Series(float(QUARTER_REPORT_DAYS), index=frame.index)
    if rev.empty or "known_since" not in rev:
        return days
    known = pd.Series(pd.to_datetime(rev["known_since"]).to_numpy(),
                      index=pd.DatetimeIndex(rev["period_end"]))
    known = known[~known.index.duplicated(keep="last")].reindex(frame.index)
    est = frame["dc_estimated"] > 0.5
    lag = (known - frame.index.to_series()).dt.days.astype(float)
    return days.where(~est | lag.isna(), np.maximum(lag, 0.0))


def gap_keys(universe: Universe) -> list[str]:
    return ["NVDA"] if "NVDA" in universe.symbols else []


INDICATOR = Indicator(
    name="revenue_gap",
    title="Revenue gap (Sequoia's $600B question)",
    description=(
        "NVIDIA data-centre revenue run-rate x 2 (rest of the data-centre cost) x 2 (end-user "
        "gross margin) = AI revenue required to pay for the build-out (Cahn, Sequoia 2024), "
        "against the AI revenue its members report (with their coverage) and an explicit "
        "scenario."
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
                                      "annualised AI revenue of the members that have reported "
                                      "(see the coverage)"),
        "ai_revenue_n_members": Column("Members in reported AI revenue", "count",
                                       "AI-revenue members with a figure known then"),
        "ai_revenue_coverage": Column("Coverage of reported AI revenue", "fraction 0-1",
                                      "members with a figure / declared AI-revenue members"),
        "gap_reported": Column("Gap to reported AI revenue", "USD m a year",
                               "AI revenue required - AI revenue reported"),
        "gap_share": Column("Share of required revenue not covered", "fraction",
                            "gap to reported AI revenue / AI revenue required (read with the "
                            "coverage)"),
        "gap_assumed": Column("Gap to assumed AI revenue", "USD m a year",
                              "AI revenue required - the assumed AI revenue (a scenario)"),
        "gap_share_assumed": Column("Share not covered by the assumption", "fraction",
                                    "gap to assumed AI revenue / AI revenue required"),
        "days_to_known": Column("Days until known", "days",
                                "days from the quarter's end until its required revenue could "
                                "be computed (10-Q deadline, or the EDGAR filing)"),
    },
    params=RevenueGapParams,
    meta=RevenueGapMeta,
    keys=gap_keys,
    compute=compute,
    page="capex",
    sampling="per NVIDIA fiscal quarter",
)
