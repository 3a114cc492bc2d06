"""Capex cycle: EDGAR-derived Alphabet capex against its 10-K figures and the
reference table; calendar alignment of different fiscal years."""

from __future__ import annotations

import pandas as pd
import pytest

from bubblewatch.core.universe import default_universe
from indicators.capex import (
    INDICATOR,
    calendar_quarter_end,
    capex_frame,
    quarters,
    total_frame,
)
from indicators.coverage import coverage_label
from indicators.frame_source import FrameSource
from indicators.registry import ComputeContext
from ingest.quarterly import annual_series
from ingest.reference import reference_frames
from tests.conftest import load_shared_facts


@pytest.fixture(scope="module")
def ctx() -> ComputeContext:
    figures, events = reference_frames()
    return ComputeContext(FrameSource(fact_frames={"GOOGL": load_shared_facts(1652044, "GOOGL")},
                                      reference_frame=figures, events_frame=events),
                          default_universe())


def test_alphabet_ttm_matches_its_10k(ctx: ComputeContext) -> None:
    f = INDICATOR.compute(ctx, "GOOGL", INDICATOR.parse_params()).frame
    # FACTS.md §7/§20: purchases of property and equipment 2023 / 2024 / 2025
    assert f.loc["2023-12-31", "capex_ttm"] == pytest.approx(32251)
    assert f.loc["2024-12-31", "capex_ttm"] == pytest.approx(52535)
    assert f.loc["2025-12-31", "capex_ttm"] == pytest.approx(91447)
    assert f.loc["2024-12-31", "capex_ttm_yoy"] == pytest.approx(52535 / 32251 - 1)


def test_alphabet_quarters_match_the_reference_table(ctx: ComputeContext) -> None:
    f = INDICATOR.compute(ctx, "GOOGL", INDICATOR.parse_params()).frame
    ref = ctx.source.reference()
    q = ref[(ref["entity"] == "GOOGL") & (ref["metric"] == "capex_quarter")]
    assert len(q) == 12
    for end, value in zip(pd.to_datetime(q["period_end"]), q["value"], strict=True):
        assert f.loc[end, "capex_q"] == pytest.approx(value), end
    # same quarter a year earlier
    assert f.loc["2025-09-30", "capex_yoy"] == pytest.approx(23953 / 13061 - 1)


def test_ratios_use_trailing_revenue_and_cash_flow(ctx: ComputeContext) -> None:
    facts = load_shared_facts(1652044, "GOOGL")
    f = INDICATOR.compute(ctx, "GOOGL", INDICATOR.parse_params()).frame
    for metric, col in (("revenue", "capex_to_revenue"), ("operating_cash_flow", "capex_to_ocf")):
        fy = annual_series(facts, metric)
        fy2024 = fy[pd.to_datetime(fy["period_end"]) == pd.Timestamp("2024-12-31")]["value"].iloc[0]
        assert f.loc["2024-12-31", col] == pytest.approx(52535e6 / fy2024)


def _q(ends: list[str], values: list[float], days: int = 91) -> pd.DataFrame:
    e = pd.to_datetime(ends)
    return pd.DataFrame({"period_start": e - pd.Timedelta(days=days - 1), "period_end": e,
                         "value": [v * 1e6 for v in values]})


def test_total_aligns_fiscal_calendars_and_waits_for_late_filers() -> None:
    # A: calendar quarters; B: fiscal quarters ending late Jan/Apr/Jul/Oct (like NVIDIA)
    a = _q(["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31", "2025-03-31"],
           [10, 11, 12, 13, 14])
    b = _q(["2024-04-28", "2024-07-28", "2024-10-27", "2025-01-26"], [1, 2, 3, 4])
    empty = a.iloc[0:0]
    total, info = total_frame({"A": (a, empty, empty), "B": (b, empty, empty)})
    assert info.members_with_data == ("A", "B")
    # B's quarter Jan 29 - Apr 28 has its midpoint in Q1; so Q1 2024 = 10 + 1
    assert total.loc["2024-03-31", "capex_q"] == 11
    assert total.loc["2024-12-31", "capex_q"] == 13 + 4
    assert total.loc["2024-12-31", "capex_ttm"] == 10 + 11 + 12 + 13 + 1 + 2 + 3 + 4
    assert pd.Timestamp("2025-03-31") not in total.index  # B has not reported that quarter
    assert (total["n_members"].dropna() == 2).all() and (total["coverage"].dropna() == 1.0).all()
    mid = calendar_quarter_end(pd.Series(pd.to_datetime(["2024-06-01"])),
                               pd.Series(pd.to_datetime(["2024-08-31"])))
    assert mid.iloc[0] == pd.Timestamp("2024-09-30")  # Oracle-style Jun-Aug quarter -> Q3


def test_growth_is_over_the_same_members_and_coverage_is_stored() -> None:
    quarter_ends = pd.date_range("2022-03-31", periods=12, freq="QE").strftime("%Y-%m-%d")
    a = _q(list(quarter_ends), [10.0] * 4 + [11.0] * 4 + [12.0] * 4)
    b = _q(list(quarter_ends[4:]), [50.0] * 8)  # B's figures begin a year later
    empty = a.iloc[0:0]
    total, info = total_frame({"A": (a, empty, empty), "B": (b, empty, empty)},
                              ["A", "B", "C"])
    q = pd.Timestamp(quarter_ends[7])  # B's first full trailing year
    assert total.loc[q, "capex_ttm"] == 44 + 200
    assert total.loc[q, "n_members"] == 2 and total.loc[q, "coverage"] == pytest.approx(2 / 3)
    # B has no year-ago figure: growth is A's alone, not (244 / 40 - 1)
    assert total.loc[q, "capex_ttm_yoy"] == pytest.approx(44 / 40 - 1)
    assert total.loc[q, "n_members_yoy"] == 1
    last = pd.Timestamp(quarter_ends[-1])
    assert total.loc[last, "capex_ttm_yoy"] == pytest.approx((48 + 200) / (44 + 200) - 1)
    assert total.loc[last, "n_members_yoy"] == 2
    # the quarter's growth compares the same companies too
    assert total.loc[pd.Timestamp(quarter_ends[4]), "capex_yoy"] == pytest.approx(11 / 10 - 1)
    # before B's first full year only A is in the trailing sum
    assert total.loc[pd.Timestamp(quarter_ends[5]), "n_members"] == 1
    assert info.ttm_members[q] == ("A", "B") and info.spans["C"].first is None
    assert str(info.spans["B"].first) == quarter_ends[4]


def test_coverage_label_says_what_a_partial_total_holds() -> None:
    five = ["MSFT", "GOOGL", "AMZN", "META", "ORCL"]
    assert coverage_label(["GOOGL"], five, "hyperscalers") == "Alphabet only: 1 of 5 hyperscalers"
    assert coverage_label(five, five, "hyperscalers") == "all 5 hyperscalers"
    assert coverage_label(["GOOGL", "MSFT"], five, "hyperscalers") == (
        "Microsoft, Alphabet: 2 of 5 hyperscalers (no data for Amazon, Meta Platforms, Oracle)")
    assert coverage_label([], five, "hyperscalers") == "no data: 0 of 5 hyperscalers"


def test_capex_frame_needs_contiguous_quarters_for_ttm() -> None:
    cap = _q(["2024-03-31", "2024-06-30", "2024-12-31", "2025-03-31"], [1, 2, 3, 4])
    f = capex_frame(cap, cap.iloc[0:0], cap.iloc[0:0])
    assert f["capex_ttm"].isna().all()  # Q3 2024 is missing


def test_hyperscalers_and_telecom_keys(ctx: ComputeContext) -> None:
    total = INDICATOR.compute(ctx, "hyperscalers", INDICATOR.parse_params())
    assert total.meta.members_with_data == ["GOOGL"]
    assert set(total.meta.members_missing) == {"MSFT", "AMZN", "META", "ORCL"}
    assert total.frame.loc["2024-12-31", "capex_ttm"] == pytest.approx(52535)
    # Alphabet alone is labelled as such, and its comparison with telecom says so
    assert total.meta.coverage_label == "Alphabet only: 1 of 5 hyperscalers"
    assert (total.frame["coverage"].dropna() == 0.2).all() and total.meta.coverage == 0.2
    assert "a partial total, not the sector" in total.meta.telecom_comparison
    # the like-for-like annual figure: every member's latest fiscal year in the reference table
    ref = ctx.source.reference()
    annual = ref[(ref["metric"] == "capex") & ref["entity"].isin(total.meta.members)]
    latest = annual.sort_values("period_end").groupby("entity")["value"].last()
    assert total.meta.reference_total.value == pytest.approx(latest.sum())
    assert total.meta.reference_total.label == "all 5 hyperscalers"
    assert total.meta.reference_total_vs_telecom_equipment_2000 == pytest.approx(
        latest.sum() / 110000)
    telecom = INDICATOR.compute(ctx, "telecom", INDICATOR.parse_params()).frame
    assert telecom.loc["2000-12-31", "na_wireline_capex"] == 92000
    assert telecom.loc["2001-12-31", "na_wireline_capex_yoy"] == pytest.approx(66 / 92 - 1)
    assert telecom.loc["2000-12-31", "us_equipment_spending"] == 110000
    missing = INDICATOR.compute(ctx, "MSFT", INDICATOR.parse_params())
    assert missing.frame.empty and "no SEC EDGAR capex" in missing.meta.missing


def test_quarters_are_taken_as_first_known() -> None:
    def fact(start: str, end: str, val: float, filed: str) -> dict:
        return {"taxonomy": "us-gaap", "concept": "PaymentsToAcquirePropertyPlantAndEquipment",
                "unit": "USD", "period_start": start, "period_end": end, "value": val * 1e6,
                "filed": filed, "accession": filed}

    facts = pd.DataFrame([
        fact("2023-01-01", "2023-03-31", 10, "2023-05-01"),
        fact("2023-01-01", "2023-06-30", 25, "2023-08-01"),
        fact("2023-01-01", "2023-09-30", 45, "2023-11-01"),
        fact("2023-01-01", "2023-12-31", 70, "2024-02-01"),
        fact("2023-01-01", "2023-12-31", 72, "2025-02-01"),  # restated a year later
    ])
    q = quarters(facts, "capex")
    assert q["value"].tolist() == [10e6, 15e6, 20e6, 25e6]  # Q4 as filed in 2024
    assert q["known_since"].tolist() == list(pd.to_datetime(
        ["2023-05-01", "2023-08-01", "2023-11-01", "2024-02-01"]))
    f = capex_frame(q, q.iloc[0:0], q.iloc[0:0])
    assert f.loc["2023-12-31", "capex_ttm"] == 70  # what was knowable in February 2024


def test_alphabet_rows_never_change_once_known(ctx: ComputeContext) -> None:
    facts = load_shared_facts(1652044, "GOOGL")
    full = INDICATOR.compute(ctx, "GOOGL", INDICATOR.parse_params()).frame
    filed = pd.to_datetime(facts["filed"])
    for day in pd.DatetimeIndex(filed.unique()).sort_values()[::5]:
        past_ctx = ComputeContext(FrameSource(fact_frames={"GOOGL": facts[filed <= day]}),
                                  default_universe())
        past = INDICATOR.compute(past_ctx, "GOOGL", INDICATOR.parse_params()).frame
        if past.empty:
            continue
        assert past.index.isin(full.index).all(), day
        pd.testing.assert_frame_equal(past, full.loc[past.index], obj=str(day.date()))
