"""Quarters from year-to-date facts, on real NVIDIA and Alphabet companyfacts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest.quarterly import annual_series, quarterly_series, ttm_series
from tests.conftest import load_shared_facts


@pytest.fixture(scope="module")
def nvda(shared_data: Path) -> pd.DataFrame:
    return load_shared_facts(1045810)


@pytest.fixture(scope="module")
def googl(shared_data: Path) -> pd.DataFrame:
    return load_shared_facts(1652044)


@pytest.mark.parametrize("fy_end", ["2024-01-28", "2025-01-26", "2026-01-25"])
def test_nvda_quarterly_capex_sums_to_the_10k_annual_figure(nvda: pd.DataFrame, fy_end: str) -> None:
    annual = annual_series(nvda, "capex")
    fy = annual[annual["period_end"] == pd.Timestamp(fy_end)]
    assert len(fy) == 1
    q = quarterly_series(nvda, "capex")
    inside = q[(q["period_start"] >= fy["period_start"].iloc[0]) & (q["period_end"] <= fy["period_end"].iloc[0])]
    assert len(inside) == 4
    assert inside["value"].sum() == fy["value"].iloc[0]  # exact: integers in USD
    # contiguous: each quarter starts the day after the previous one ends
    gaps = (inside["period_start"].iloc[1:].to_numpy() - inside["period_end"].iloc[:-1].to_numpy())
    assert all(g == pd.Timedelta(days=1) for g in gaps)
    assert inside["derived"].iloc[-1]  # Q4 = FY - 9M


def test_nvda_capex_tag_change_is_followed(nvda: pd.DataFrame) -> None:
    q = quarterly_series(nvda, "capex")
    old = q[q["period_end"] < pd.Timestamp("2020-02-01")]["concept"].unique()
    new = q[q["period_end"] > pd.Timestamp("2021-02-01")]["concept"].unique()
    assert list(old) == ["us-gaap:PaymentsToAcquirePropertyPlantAndEquipment"]
    assert list(new) == ["us-gaap:PaymentsToAcquireProductiveAssets"]


def test_alphabet_2024_capex_is_52535_million(googl: pd.DataFrame) -> None:
    ttm = ttm_series(googl, "capex")
    row = ttm[ttm["period_end"] == pd.Timestamp("2024-12-31")]
    assert row["value"].iloc[0] == 52_535_000_000  # FACTS.md §7, 10-K cash-flow statement
    assert row["period_start"].iloc[0] == pd.Timestamp("2024-01-01")
    y2025 = ttm[ttm["period_end"] == pd.Timestamp("2025-12-31")]
    assert y2025["value"].iloc[0] == 91_447_000_000


def test_nvda_quarterly_revenue_matches_reported_quarters(nvda: pd.DataFrame) -> None:
    q = quarterly_series(nvda, "revenue").set_index("period_end")["value"]
    # FACTS.md §11: Q1/Q2/Q3/Q4 FY2026 revenue, USD m (Q4 derived as FY - 9M)
    expected = {"2025-04-27": 44_062, "2025-07-27": 46_743, "2025-10-26": 57_006, "2026-01-25": 68_127}
    for end, musd in expected.items():
        assert q[pd.Timestamp(end)] == musd * 1_000_000


def test_point_in_time_never_looks_ahead(nvda: pd.DataFrame) -> None:
    as_of = date(2025, 3, 1)  # after the FY2025 10-K (filed 2025-02-26), before Q1 FY2026
    q = quarterly_series(nvda, "revenue", as_of=as_of)
    assert q["filed"].max() <= pd.Timestamp(as_of)
    assert q["period_end"].max() == pd.Timestamp("2025-01-26")
    full = quarterly_series(nvda, "revenue")
    assert full["period_end"].max() > pd.Timestamp("2025-01-26")


def test_differencing_on_synthetic_ytd_facts() -> None:
    def fact(start: str, end: str, val: float, filed: str, accn: str) -> dict:
        return {"taxonomy": "us-gaap", "concept": "PaymentsToAcquirePropertyPlantAndEquipment",
                "unit": "USD", "period_start": start, "period_end": end, "value": val,
                "filed": filed, "accession": accn}

    facts = pd.DataFrame([
        fact("2023-02-01", "2023-04-30", 10, "2023-05-20", "a"),
        fact("2023-02-01", "2023-07-31", 25, "2023-08-20", "b"),
        fact("2023-02-01", "2023-10-31", 45, "2023-11-20", "c"),
        fact("2023-02-01", "2024-01-31", 70, "2024-03-01", "d"),
        fact("2023-02-01", "2024-01-31", 72, "2025-03-01", "e"),  # restated a year later
    ])
    q = quarterly_series(facts, "capex")
    assert q["value"].tolist() == [10, 15, 20, 27]
    assert q["filed"].iloc[-1] == pd.Timestamp("2025-03-01")
    before_restatement = quarterly_series(facts, "capex", as_of=date(2024, 6, 1))
    assert before_restatement["value"].tolist() == [10, 15, 20, 25]
    assert ttm_series(facts, "capex")["value"].tolist() == [72]


def test_weighted_shares_are_never_differenced(nvda: pd.DataFrame) -> None:
    q = quarterly_series(nvda, "diluted_shares")
    assert not q["derived"].any()
    assert (q["value"] > 0).all()


def test_cost_of_revenue_quarters_sum_to_annual(googl: pd.DataFrame) -> None:
    a = annual_series(googl, "cost_of_revenue")
    row = a.iloc[-1]
    q = quarterly_series(googl, "cost_of_revenue")
    inside = q[(q["period_start"] >= row["period_start"]) & (q["period_end"] <= row["period_end"])]
    assert len(inside) == 4
    # quarters reported directly are rounded to USD m independently of the
    # year-to-date totals, so the sum may be off by a rounding unit
    assert abs(inside["value"].sum() - row["value"]) <= 1_000_000


def test_as_of_tables_equal_tables_of_the_facts_filed_by_then(nvda: pd.DataFrame) -> None:
    filed = pd.to_datetime(nvda["filed"])
    for day in pd.to_datetime(["2012-03-01", "2019-02-22", "2021-11-19", "2022-03-19",
                               "2025-03-01"]):
        for name in ("revenue", "capex", "receivables"):
            full = quarterly_series(nvda, name, as_of=day.date())
            past = quarterly_series(nvda[filed <= day], name)
            pd.testing.assert_frame_equal(full, past, obj=f"{name} {day.date()}")
        pd.testing.assert_frame_equal(annual_series(nvda, "revenue", as_of=day.date()),
                                      annual_series(nvda[filed <= day], "revenue"))
