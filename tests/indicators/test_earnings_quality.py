"""Earnings quality: NVIDIA's DSO against FACTS.md and a hand computation."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from bubblewatch.core.errors import DataQualityWarning
from bubblewatch.core.universe import default_universe
from indicators.earnings_quality import INDICATOR, quality_frame
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts


@pytest.fixture(scope="module")
def ctx() -> ComputeContext:
    figures, _ = reference_frames()
    return ComputeContext(FrameSource(fact_frames={"NVDA": load_shared_facts(1045810, "NVDA")},
                                      reference_frame=figures), default_universe())


def test_nvidia_dso_matches_cited_figures(ctx: ComputeContext) -> None:
    res = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params())
    f = res.frame
    q3 = f.loc["2025-10-26"]
    # FACTS.md §12: receivables 33.4bn and DSO 53 days at the end of Q3 FY2026
    assert q3["receivables"] == pytest.approx(33400, rel=0.01)
    assert q3["dso"] == pytest.approx(53, abs=0.5)
    assert q3["dso"] == pytest.approx(q3["receivables"] / 57006 * 91)
    assert f.loc["2025-01-26", "receivables"] == pytest.approx(23065)  # FY2025 year-end
    year_ago = f.loc["2024-10-27"]
    assert q3["dso_yoy"] == pytest.approx(q3["dso"] - year_ago["dso"])
    assert q3["recv_minus_rev_growth"] == pytest.approx(
        (q3["receivables"] / year_ago["receivables"] - 1) - (57006 / 35082 - 1))
    ref = res.meta.reference
    assert ref.ai["crwv_nvidia_anchor_order"].value == 250


def test_inventory_days_use_cost_when_given() -> None:
    e = pd.to_datetime(["2024-03-31", "2024-06-30"])
    flow = pd.DataFrame({"period_start": e - pd.Timedelta(days=90), "period_end": e,
                         "value": [100e6, 120e6]})
    stock = pd.DataFrame({"period_start": e, "period_end": e, "value": [50e6, 60e6]})
    cost = flow.assign(value=[40e6, 60e6])
    f = quality_frame(flow, stock, stock, cost)
    assert f["dso"].tolist() == pytest.approx([50 / 100 * 91, 60 / 120 * 91])
    assert f["inventory_days"].tolist() == pytest.approx([50 / 40 * 91, 60 / 60 * 91])
    g = quality_frame(flow, stock, stock, None)
    assert g["inventory_days"].tolist() == pytest.approx(g["dso"].tolist())  # revenue basis


def test_cisco_reports_the_dotcom_markers_without_inventing_dso(ctx: ComputeContext) -> None:
    res = INDICATOR.compute(ctx, "CSCO", INDICATOR.parse_params())
    assert res.frame.empty and "unverified" in res.meta.dotcom_note
    ref = res.meta.reference
    assert ref.csco_inventory_charge_to_revenue_fy2001 == pytest.approx(2249 / 22293)
    assert ref.dotcom["vendor_loans_commitments_2000_09"].value == 8700


def test_rows_never_change_once_known() -> None:
    # every quarter is taken as first known, so a row computed from the facts
    # filed by any day is the row stored from the full history
    facts = load_shared_facts(1045810, "NVDA")
    figures, _ = reference_frames()

    def frame(f: pd.DataFrame) -> pd.DataFrame:
        ctx = ComputeContext(FrameSource(fact_frames={"NVDA": f}, reference_frame=figures),
                             default_universe())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            return INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params()).frame

    full = frame(facts)
    filed = pd.to_datetime(facts["filed"])
    for day in pd.DatetimeIndex(filed.unique()).sort_values()[::6]:
        past = frame(facts[filed <= day])
        if past.empty:
            continue
        common = past.index.intersection(full.index)
        assert len(common) >= len(past) - 1, day  # at most a quarter later re-bounded
        pd.testing.assert_frame_equal(past.loc[common], full.loc[common], obj=str(day.date()))
