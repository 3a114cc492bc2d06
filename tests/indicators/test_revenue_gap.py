"""Revenue gap: Sequoia's arithmetic on the reference table's NVIDIA DC revenue."""

from __future__ import annotations

import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from indicators.revenue_gap import INDICATOR, reported_ai_revenue, reported_ai_revenue_frame
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts


@pytest.fixture(scope="module")
def ctx() -> ComputeContext:
    figures, _ = reference_frames()
    return ComputeContext(FrameSource(fact_frames={"NVDA": load_shared_facts(1045810, "NVDA")},
                                      reference_frame=figures), default_universe())


def test_sequoia_arithmetic(ctx: ComputeContext) -> None:
    f = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params()).frame
    q = f.loc["2025-01-26"]  # Q4 FY2025: DC 35,580 -> run-rate 142bn -> ~570bn required
    assert q["dc_run_rate"] == 4 * 35580
    assert q["required_revenue"] == 16 * 35580
    assert q["revenue_q"] == 39331  # EDGAR matches the press-release figure
    assert q["gap_assumed"] == 16 * 35580 - 100000
    # the default multipliers reproduce Sequoia's June-2024 $600B from its ~150bn run-rate
    p = INDICATOR.parse_params()
    ref = dict(zip(ctx.source.reference()["key"], ctx.source.reference()["value"], strict=True))
    assert ref["sequoia_dc_run_rate_2024"] * p.tco_multiplier * p.margin_multiplier == (
        ref["sequoia_required_revenue_2024"])
    custom = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params({"tco_multiplier": 1.5})).frame
    assert custom.loc["2025-01-26", "required_revenue"] == pytest.approx(35580 * 4 * 1.5 * 2)


def test_later_quarters_are_estimated_at_the_last_dc_share(ctx: ComputeContext) -> None:
    f = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params()).frame
    last_known = f[f["dc_estimated"] == 0].iloc[-1]
    est = f[f["dc_estimated"] == 1]
    assert len(est) >= 1 and est.index.min() > f[f["dc_estimated"] == 0].index.max()
    share = last_known["dc_revenue_q"] / last_known["revenue_q"]
    assert est["dc_revenue_q"].iloc[0] == pytest.approx(est["revenue_q"].iloc[0] * share)


def test_reported_ai_revenue_is_annualised_and_point_in_time() -> None:
    figures, _ = reference_frames()
    dates = pd.DatetimeIndex(["2024-03-29", "2024-06-30", "2025-01-31", "2025-03-31",
                              "2025-08-13", "2025-08-14"])
    s = reported_ai_revenue(figures, ["CRWV"], dates)
    # a year counts from its 10-K deadline (90 days), a quarter from its 10-Q's (45 days)
    assert s.iloc[0] == pytest.approx(16)  # 2023 not due before 2024-03-30
    assert s.iloc[1] == pytest.approx(228.9)  # only the 2023 figure is out by mid-2024
    assert s.iloc[2] == pytest.approx(228.9)  # 2024 was not public in January 2025
    assert s.iloc[3] == pytest.approx(1900 * 365 / 366)  # 2024 (leap year) revenue
    assert s.iloc[4] == pytest.approx(981.6 * 365 / 90)  # Q1 2025 annualised
    assert s.iloc[5] == pytest.approx(1212.8 * 365 / 91)  # Q2 2025 from 2025-08-14
    assert reported_ai_revenue(figures, ["nobody"], dates).isna().all()



def test_gap_is_measured_against_reported_ai_revenue_with_its_coverage(
        ctx: ComputeContext) -> None:
    res = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params())
    f, meta = res.frame, res.meta
    figures = ctx.source.reference()
    reported = reported_ai_revenue(figures, ["CRWV"], pd.DatetimeIndex(f.index))
    # only CoreWeave reports: the sum is CoreWeave's, labelled as 1 of the 6 members
    assert f["ai_revenue_reported"].dropna().equals(reported.dropna().rename(
        "ai_revenue_reported").astype(float))
    assert f["gap_share"].iloc[-1] == pytest.approx(
        1 - reported.iloc[-1] / f["required_revenue"].iloc[-1])
    has = f["ai_revenue_reported"].notna()
    assert (f.loc[has, "ai_revenue_n_members"] == 1).all()
    assert (f.loc[~has, "ai_revenue_n_members"] == 0).all() and (~has).any()
    assert f["ai_revenue_coverage"].dropna().eq(1 / 6).all()
    assert meta.ai_revenue_label == "CoreWeave only: 1 of 6 AI-revenue members"
    assert meta.ai_revenue_members_with_data == ["CRWV"]
    # the assumption is a separate scenario, no longer the scored gap
    assert f["gap_share_assumed"].iloc[-1] == pytest.approx(
        1 - 100000 / f["required_revenue"].iloc[-1])
    # Sequoia's inputs are stored: the multipliers in use and the published figures
    inputs = meta.sequoia_inputs
    assert (inputs.tco_multiplier, inputs.margin_multiplier) == (2.0, 2.0)
    assert {"sequoia_dc_run_rate_2024", "sequoia_required_revenue_2024"} <= {
        p.key for p in inputs.published}
    # the members are a parameter
    crwv = INDICATOR.compute(ctx, "NVDA", INDICATOR.parse_params(
        {"ai_revenue_members": ["CRWV"]})).meta
    assert crwv.ai_revenue_label == "CoreWeave (1 of 1 AI-revenue members)"


def test_a_member_without_figures_is_never_counted_as_zero() -> None:
    figures, _ = reference_frames()
    dates = pd.DatetimeIndex(["2023-01-31", "2025-08-14"])
    f = reported_ai_revenue_frame(figures, ["CRWV", "MSFT:ai_revenue"], dates)
    assert f["MSFT:ai_revenue"].isna().all()
    assert f["n_members"].tolist() == [0, 1] and f["coverage"].tolist() == [0, 0.5]
    assert pd.isna(f["total"].iloc[0])  # nobody had reported: no figure, not zero
    assert f["total"].iloc[1] == pytest.approx(1212.8 * 365 / 91)
    with pytest.raises(Exception, match="ENTITY or ENTITY:metric"):
        INDICATOR.parse_params({"ai_revenue_members": ["CRWV revenue"]})
